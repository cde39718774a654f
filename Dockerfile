# The attendance pipeline's image: Airflow 3.3.2 with the project's pinned dependencies and
# its code. Used by every Airflow service of docker-compose.yml (see docs/deployment.md).
FROM apache/airflow:3.3.2-python3.11

# The project's wheel carries its packages, the dbt project and the expectation suites
# (warehouse/project.py finds them beside the packages, wherever they are installed); the
# DAG files are wiring that Airflow reads from its dags folder, /opt/attendance/dags.
ENV ATTENDANCE_HOME=/opt/attendance \
    ATTENDANCE_LANDING=/opt/attendance/landing \
    ATTENDANCE_WAREHOUSE=/opt/attendance/warehouse \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/attendance/dags \
    DO_NOT_TRACK=1 \
    GX_ANALYTICS_ENABLED=false

# Folders the airflow user (uid 50000, gid 0) writes to. Named volumes mounted on them
# start with this owner.
USER 0
RUN mkdir -p /opt/attendance/app /opt/attendance/dags /opt/attendance/landing \
        /opt/attendance/warehouse \
        /opt/airflow/auth \
    && chown -R 50000:0 /opt/attendance /opt/airflow/auth
USER 50000

WORKDIR /opt/attendance/app

# Dependencies first, so that a code change does not reinstall them. The lock pins
# apache-airflow==3.3.2 itself, so pip cannot move Airflow away from the base image's. It
# is the runtime lock: no test, lint or bench tool goes into the image.
COPY --chown=50000:0 requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# The product's packages and data, installed as a wheel (not editable): what is shipped is
# what runs. The build's scratch folders are left behind.
COPY --chown=50000:0 pyproject.toml LICENSE README.md ./
COPY --chown=50000:0 warehouse/ ./warehouse/
COPY --chown=50000:0 ingestion/ ./ingestion/
COPY --chown=50000:0 expectations/ ./expectations/
COPY --chown=50000:0 publication/ ./publication/
COPY --chown=50000:0 serving/ ./serving/
COPY --chown=50000:0 pipeline/ ./pipeline/
COPY --chown=50000:0 synthetic/ ./synthetic/
COPY --chown=50000:0 dbt_project/ ./dbt_project/
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build *.egg-info \
    && cd / && python -c "from warehouse.project import DBT_PROJECT_DIR as d; \
assert (d / 'dbt_project.yml').is_file(), d; import expectations.suite as s; \
assert (s.SUITES_DIR / 'pupil_attendance.json').is_file(), s.SUITES_DIR"
COPY --chown=50000:0 dags/ /opt/attendance/dags/

WORKDIR /opt/airflow
