"""Files replaced in one step: a reader has the old file or the new one, never half of one."""

import os
from pathlib import Path

from warehouse.files import staged_path, write_text_atomically


def test_a_file_is_written_with_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "report.md"
    assert write_text_atomically(target, "first\n") == target
    assert target.read_text(encoding="utf-8") == "first\n"


def test_a_reader_of_the_old_file_keeps_all_of_it_while_it_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "publication.json"
    old = "old " * 10_000
    write_text_atomically(target, old)
    with target.open(encoding="utf-8") as reader:
        reader.read(7)  # part-way through the old file
        write_text_atomically(target, "new ✓")
        rest = reader.read()
    assert rest == old[7:]
    # A reader that opens the file afterwards sees all of the new one (written as UTF-8).
    assert target.read_bytes() == "new ✓".encode()


def test_nothing_is_left_beside_the_file_but_the_file(tmp_path: Path) -> None:
    target = tmp_path / "alerts" / "report.md"
    for text in ("one", "two", "three"):
        write_text_atomically(target, text)
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]


def test_the_staged_name_is_hidden_beside_the_file_and_unique_to_the_process(
    tmp_path: Path,
) -> None:
    staged = staged_path(tmp_path / "manifest.json")
    assert staged.parent == tmp_path
    assert staged.name.startswith(".manifest.json.") and staged.name.endswith(".tmp")
    assert str(os.getpid()) in staged.name
