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


def test_a_second_run_on_one_airflow_home_says_so(tmp_path: Path) -> None:
    import fcntl

    home = tmp_path / "airflow"
    home.mkdir()
    (tmp_path / "landing").mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    with open(home / ".attendance-run.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = run_cli(
            env, "run", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "w")
        )
    assert done.returncode == 2
    assert done.stderr == (
        f"error: another `attendance run` is using the Airflow home {home}; wait for it to "
        "finish, or give this one its own AIRFLOW_HOME\n"
    )


def test_an_airflow_database_never_set_up_is_said_not_hidden(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    (tmp_path / "landing").mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    done = run_cli(
        env, "run", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "w")
    )
    assert done.returncode == 1
    assert "error: the run stopped on an error of Airflow's or the pipeline's" in done.stderr
    assert f"the whole of it is in {tmp_path / 'w' / 'airflow-run.log'}" in done.stderr
