"""The `attendance` command says what is wrong in words, not with a traceback."""

import os
from pathlib import Path

from tests.support.cli import run_cli


def test_a_summary_of_a_warehouse_without_a_publication_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = run_cli(dict(os.environ), "summary", "--warehouse", str(missing))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: there is no publication in {missing / 'published'}; "
        "`attendance run` publishes one\n"
    )
    assert "Traceback" not in done.stderr
