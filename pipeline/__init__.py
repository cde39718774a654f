"""The run: one function per DAG task, the downstream steps, assets, and the command line.

The layer above the stages (ingestion, expectations, publication, serving): it decides
what runs when, with which folders and cut-off, and turns failures into alerts. Only this
package and `dags/` import Airflow.
"""
