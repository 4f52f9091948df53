"""Refinery's test suite, by tier: ``unit`` (pure Python), ``spark`` (in-process SparkSession with
real Delta), ``e2e`` (separate processes: spark-submit, pipelines, the cluster, Airflow, crash trials
and the reliability audits). Shared helpers are in :mod:`tests.support`."""
