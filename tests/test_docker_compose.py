"""docker-compose.yml renders, wires Airflow as intended and takes its secrets only from `.env`.

Uses docker-compose 1.29.2 from `.venv-compose` (`make -f mk/compose.mk .venv-compose/.installed`):
its `config` command validates and renders the file without a Docker daemon. The placeholder
secrets of `.env.example` stand in for the real, uncommitted `.env`.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKER_COMPOSE = REPO_ROOT / ".venv-compose" / "bin" / "docker-compose"

AIRFLOW_SERVICES = ["airflow-init", "api-server", "scheduler", "dag-processor", "triggerer"]
METADATA_DB = "postgres"
SERVING_DB = "serving-db"

# `${NAME:?message}`: a value Compose refuses to run without.
REQUIRED_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?")
# `${NAME...}` or `$NAME`, but not the escaped `$$`.
ANY_VARIABLE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _required_variables() -> list[str]:
    return sorted(set(REQUIRED_VARIABLE.findall(COMPOSE_FILE.read_text())))


def _run_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    if not DOCKER_COMPOSE.exists():
        message = "no .venv-compose: run `make -f mk/compose.mk .venv-compose/.installed`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Only the env file may supply the compose file's variables, not this shell's environment.
    referenced = set(ANY_VARIABLE.findall(COMPOSE_FILE.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in referenced}
    env = {k: v for k, v in env.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    return subprocess.run(
        [str(DOCKER_COMPOSE), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered() -> dict:
    finished = _run_config(ENV_EXAMPLE)
    assert finished.returncode == 0, finished.stderr
    return yaml.safe_load(finished.stdout)


def _mount_targets(service: dict) -> dict[str, str]:
    """Container path -> source (volume name or host path) of each of a service's mounts."""
    targets = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            targets[volume["target"]] = volume.get("source", "")
        else:
            parts = volume.split(":")
            targets[parts[1]] = parts[0]
    return targets


def test_all_services_exist(rendered):
    assert set(AIRFLOW_SERVICES + [METADATA_DB, SERVING_DB]) <= set(rendered["services"])


def test_postgres_services_are_version_16_with_healthcheck_and_named_volume(rendered):
    for name in (METADATA_DB, SERVING_DB):
        service = rendered["services"][name]
        assert service["image"] == "postgres:16"
        assert "pg_isready" in service["healthcheck"]["test"]
        data = _mount_targets(service)["/var/lib/postgresql/data"]
        assert data in rendered["volumes"], f"{name} keeps its data in a named volume"


def test_airflow_services_use_the_project_image_and_local_executor(rendered):
    images = set()
    for name in AIRFLOW_SERVICES:
        service = rendered["services"][name]
        assert "build" in service, f"{name} is built from the Dockerfile"
        images.add(service["image"])
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
        assert env["DO_NOT_TRACK"] == "1"
        assert env["GX_ANALYTICS_ENABLED"] == "false"
        assert env["ATTENDANCE_LANDING"] == "/opt/attendance/landing"
        assert env["ATTENDANCE_WAREHOUSE"] == "/opt/attendance/warehouse"
    assert len(images) == 1, "one image for all Airflow services"


def test_metadata_database_is_the_postgres_service(rendered):
    password = _env_example()["AIRFLOW_DB_PASSWORD"]
    for name in AIRFLOW_SERVICES:
        service = rendered["services"][name]
        conn = service["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert conn == f"postgresql+psycopg2://airflow:{password}@{METADATA_DB}:5432/airflow"
        assert service["depends_on"][METADATA_DB]["condition"] == "service_healthy"


def test_airflow_components_run_the_right_commands(rendered):
    services = rendered["services"]
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert services[name]["command"] in (name, [name])
        assert services[name]["depends_on"]["airflow-init"]["condition"] == (
            "service_completed_successfully"
        )
    assert any("airflow db migrate" in part for part in services["airflow-init"]["command"])
    assert "8080" in str(services["api-server"]["ports"])


def test_scheduler_mounts_landing_and_warehouse(rendered):
    mounts = _mount_targets(rendered["services"]["scheduler"])
    assert "/opt/attendance/landing" in mounts
    assert "/opt/attendance/warehouse" in mounts
    assert mounts["/opt/attendance/warehouse"] in rendered["volumes"]


def test_admin_user_is_configured_from_env(rendered):
    env = _env_example()
    init = rendered["services"]["airflow-init"]["environment"]
    assert init["AIRFLOW_ADMIN_PASSWORD"] == env["AIRFLOW_ADMIN_PASSWORD"]
    api = rendered["services"]["api-server"]["environment"]
    assert api["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".SimpleAuthManager")
    assert api["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert "AIRFLOW_ADMIN_PASSWORD" not in api, "only airflow-init needs the admin password"


def test_secrets_are_required_and_documented():
    required = _required_variables()
    expected = {
        "AIRFLOW_DB_PASSWORD",
        "SERVING_DB_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_API_SECRET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_ADMIN_PASSWORD",
        "PSEUDONYM_KEY",
    }
    assert expected <= set(required)
    assert set(required) <= set(_env_example()), ".env.example lists every required secret"


def test_no_secret_from_env_example_is_hard_coded():
    compose_text = COMPOSE_FILE.read_text()
    env = _env_example()
    for name in _required_variables():
        assert env[name], f"{name} has a placeholder in .env.example"
        assert env[name] not in compose_text, f"the value of {name} is hard-coded"


def test_compose_file_uses_no_env_file_key():
    # `env_file:` would need a real .env to validate, and would bypass the ${VAR:?} checks.
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert all("env_file" not in service for service in compose["services"].values())


@pytest.mark.parametrize("missing", _required_variables())
def test_validation_fails_naming_a_missing_secret(missing, tmp_path):
    lines = ENV_EXAMPLE.read_text().splitlines()
    kept = [line for line in lines if not line.strip().startswith(f"{missing}=")]
    assert len(kept) == len(lines) - 1
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(kept) + "\n")

    finished = _run_config(env_file)

    assert finished.returncode != 0
    assert f"{missing} is not set" in finished.stdout + finished.stderr
