# The attendance pipeline's image: Airflow 3.3.2 with the project's pinned dependencies and
# its code. Used by every Airflow service of docker-compose.yml (see docs/deployment.md).
FROM apache/airflow:3.3.2-python3.11

# The project lives at /opt/attendance/app. `ingestion.paths` finds dbt_project/ and
# expectations/ next to the `ingestion` package, so the package is installed in editable
# mode from there rather than copied into site-packages.
ENV ATTENDANCE_HOME=/opt/attendance \
    ATTENDANCE_LANDING=/opt/attendance/landing \
    ATTENDANCE_WAREHOUSE=/opt/attendance/warehouse \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/attendance/app/dags \
    DO_NOT_TRACK=1 \
    GX_ANALYTICS_ENABLED=false

# Folders the airflow user (uid 50000, gid 0) writes to. Named volumes mounted on them
# start with this owner.
USER 0
RUN mkdir -p /opt/attendance/app /opt/attendance/landing /opt/attendance/warehouse \
        /opt/airflow/auth \
    && chown -R 50000:0 /opt/attendance /opt/airflow/auth
USER 50000

WORKDIR /opt/attendance/app

# Dependencies first, so that a code change does not reinstall them. The lock pins
# apache-airflow==3.3.2 itself, so pip cannot move Airflow away from the base image's.
COPY --chown=50000:0 requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY --chown=50000:0 pyproject.toml ./
COPY --chown=50000:0 ingestion/ ./ingestion/
COPY --chown=50000:0 dags/ ./dags/
COPY --chown=50000:0 dbt_project/ ./dbt_project/
COPY --chown=50000:0 expectations/ ./expectations/
RUN pip install --no-cache-dir --no-deps --editable . \
    && python -c "import ingestion.paths as p; assert p.DBT_PROJECT_DIR.is_dir(), p.DBT_PROJECT_DIR"

WORKDIR /opt/airflow
