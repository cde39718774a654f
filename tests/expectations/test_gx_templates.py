"""Data Docs views share compiled templates (ingestion/gx_templates.py).

The "without" test shows GX's own behaviour: each view has its own Jinja environment and no
bytecode cache, so each compiles its templates again. When a GX upgrade changes that, it
fails: the workaround can go.
"""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from great_expectations.render.view.view import DefaultJinjaPageView  # noqa: E402

from expectations.gx_templates import TEMPLATES, share_compiled_templates  # noqa: E402

PAGE = "page.j2"


def _gx_view() -> DefaultJinjaPageView:
    """A view as GX itself makes it, whether or not this process shared the templates."""
    init = DefaultJinjaPageView.__init__
    view = DefaultJinjaPageView.__new__(DefaultJinjaPageView)
    getattr(init, "__wrapped__", init)(view)
    return view


def test_without_it_every_view_compiles_its_templates_again() -> None:
    first, second = _gx_view(), _gx_view()
    assert first.env is not second.env
    assert first.env.bytecode_cache is None and second.env.bytecode_cache is None
    assert first.env.get_template(PAGE) is not second.env.get_template(PAGE)


def test_views_made_after_sharing_reuse_the_compiled_templates() -> None:
    share_compiled_templates()
    DefaultJinjaPageView().env.get_template(PAGE)
    compiled, reused = TEMPLATES.compiled, TEMPLATES.reused
    view = DefaultJinjaPageView()
    assert view.env.bytecode_cache is TEMPLATES
    view.env.get_template(PAGE)
    # Loaded from the cache, not compiled again.
    assert (TEMPLATES.compiled, TEMPLATES.reused) == (compiled, reused + 1)
