"""Run by the Airflow virtualenv's Python (``make airflow``), not by pytest: load ``jobs/dags``
with Airflow's own DagBag and print what it holds as one JSON object: the import errors, and
each DAG's settings and tasks (upstream ids, retries, the spark-submit arguments)."""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def describe(folder: str) -> dict:
    bag = DagBag(dag_folder=folder)
    dags = {}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for task in dag.tasks:
            tasks[task.task_id] = {
                "operator": type(task).__name__,
                "upstream": sorted(task.upstream_task_ids),
                "retries": task.retries,
                "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
                "application": getattr(task, "application", None),
                "application_args": getattr(task, "application_args", None),
                "py_files": getattr(task, "py_files", None),
                "conf": getattr(task, "conf", None),
            }
        dags[dag_id] = {
            "schedule": str(dag.schedule),
            "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup,
            "params": sorted(dag.params.keys()),
            "tasks": tasks,
        }
    return {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "dags": dags}


if __name__ == "__main__":
    print(json.dumps(describe(sys.argv[1])))
