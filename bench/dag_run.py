"""Child process of the bench: one real run of the daily DAG (`dag.test()`), as `make run`.

python -m bench.dag_run LANDING WAREHOUSE YYYY-MM-DD DETAIL.json
"""

import json
import sys
import time
from datetime import date
from pathlib import Path


def main(argv: list[str]) -> int:
    landing, warehouse, day, detail = (
        Path(argv[0]),
        Path(argv[1]),
        date.fromisoformat(argv[2]),
        Path(argv[3]),
    )
    started = time.perf_counter()
    from pipeline.dag_runs import DAG_ID, load_dags, run_day

    dag = load_dags()[DAG_ID]
    loaded = time.perf_counter()
    run = run_day(dag, day, landing, warehouse)
    finished = time.perf_counter()
    tasks = {
        ti.task_id: round((ti.end_date - ti.start_date).total_seconds(), 2)
        for ti in run.get_task_instances()
        if ti.start_date and ti.end_date
    }
    detail.write_text(
        json.dumps(
            {
                "load_dags_seconds": round(loaded - started, 2),
                "dag_run_seconds": round(finished - loaded, 2),
                "task_seconds": tasks,
                "state": str(run.state),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
