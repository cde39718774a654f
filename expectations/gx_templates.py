"""Great Expectations' Data Docs compile their page templates once per process, not per page.

GX 1.24 renders every Data Docs page through a new `DefaultJinjaView`, and each view makes a
new Jinja environment, which compiles every template it uses again: about 500 compilations
for the nine suites of a morning's audit, about 1.2 s of its 6 to 7 s (bench day 5,
docs/performance.md). `share_compiled_templates()` gives every view's environment one
in-memory bytecode cache, Jinja's own mechanism for reusing compiled templates: a template
is compiled once and loaded from the cache afterwards, and the cache checks each template's
source before reusing it, so the pages are the same. Remove this when GX keeps one
environment (tests/ingestion/test_gx_templates.py shows the recompilation without it).
"""

from __future__ import annotations

import functools

import jinja2


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory, with how often each way was taken."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self.compiled = 0
        self.reused = 0

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)
            # A template whose source changed is rejected by the bucket and compiled again.
            self.reused += bucket.code is not None

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()
        self.compiled += 1


TEMPLATES = CompiledTemplates()


@functools.cache
def share_compiled_templates() -> None:
    """Every Data Docs view made from now on uses `TEMPLATES` (once per process)."""
    from great_expectations.render.view import view

    make_view = view.DefaultJinjaView.__init__

    @functools.wraps(make_view)
    def with_shared_templates(self: view.DefaultJinjaView, *args: object, **kwargs: object) -> None:
        make_view(self, *args, **kwargs)
        self.env.bytecode_cache = TEMPLATES

    view.DefaultJinjaView.__init__ = with_shared_templates
