"""What a deployer installs: the wheel holds the product's packages with the dbt project and
the expectation suites beside them, and nothing of the bench, the tests or the reference
feed; installed anywhere, it finds its dbt project and suites."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.layout import NOT_SHIPPED, PACKAGES
from warehouse.project import PROJECT_ROOT

# The packages, with the dbt project as data beside them.
PRODUCT = (set(PACKAGES) - set(NOT_SHIPPED)) | {"dbt_project"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the tracked files alone (a checkout's build folders stay out)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        target = source / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((PROJECT_ROOT / name.decode()).read_bytes())
    uv = Path(sys.executable).with_name("uv")
    built = subprocess.run(
        [str(uv), "build", "--wheel", "--quiet", "--out-dir", str(root / "dist"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [path] = (root / "dist").glob("*.whl")
    return path


def test_the_wheel_holds_the_product_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert tops == PRODUCT
    assert not [n for n in names if "mis_feed" in n or "__pycache__" in n]
    assert "dbt_project/dbt_project.yml" in names
    assert "dbt_project/models/marts/pupil_attendance.sql" in names
    assert "expectations/suites/pupil_attendance.json" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_installed_elsewhere_it_finds_its_dbt_project_and_suites(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
        + [str(wheel)],
        check=True,
    )
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import expectations.suite as s, warehouse.project as p; "
            "print(p.DBT_PROJECT_DIR); print(s.SUITES_DIR); print(p.suppress_counts_below())",
        ],
        # The installed copy first; its dependencies from this environment.
        env={"PYTHONPATH": str(site), "PATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    dbt_project, suites, threshold = found
    assert Path(dbt_project) == site / "dbt_project"
    assert (Path(dbt_project) / "dbt_project.yml").is_file()
    assert Path(suites) == site / "expectations" / "suites"
    assert (Path(suites) / "fct_sessions.json").is_file()
    assert threshold == "5"
