"""The repository's top-level packages, as the tests of its layout and packaging name them."""

# The stages of the flow, the run, the generated LA, the bench and the DAG files.
PACKAGES = (
    "warehouse",
    "ingestion",
    "expectations",
    "publication",
    "serving",
    "pipeline",
    "synthetic",
    "bench",
    "dags",
)
# What is not shipped in the wheel: the bench, and the DAG files (deployed to Airflow's
# dags folder).
NOT_SHIPPED = ("bench", "dags")
