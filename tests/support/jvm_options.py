"""How the suite's JVMs run: the JIT tier of short-lived JVMs, and Spark SQL evaluated without
generated code. Both change how fast the tests run on two cores, never what Spark computes; the
product's own runs keep Spark's and the JVM's defaults.

* **C1 only** (``-XX:TieredStopAtLevel=1``) for the JVMs the tests start as subprocesses
  (spark-submit, pipelines, the test cluster's daemons and executors, Airflow's tasks): each
  lives seconds to minutes on small data, so the optimizing compiler (C2) mostly burns the other
  core on code it never runs long. C1 alone took half the CPU for the same wall time (one
  ``spark-submit`` of a job on 600 rows). The in-process session lives the whole run and keeps
  the default JIT.
* **Interpreted SQL** (:data:`INTERPRETED_SQL`) everywhere in the suite: the tests' frames hold
  tens to thousands of rows, and generating and compiling Java for each new query (Janino, whose
  name lookups scan the classpath's jars) costs more than evaluating those rows. A JVM profile of
  ``refinery pipeline`` on 600 rows spent about a tenth of its samples compiling generated code
  and a sixth loading classes; interpreted, the run took about a fifth less wall time. Spark
  evaluates every expression either way (its own expression tests run both). One whole-pipeline
  test (``tests/e2e/test_spark_submit.py``) runs as shipped, with generated code, so that path
  stays proven end to end.
"""

from __future__ import annotations

#: The JIT of the JVMs the tests start as subprocesses.
JIT_OPTIONS = "-XX:TieredStopAtLevel=1"
#: Spark SQL without whole-stage or expression code generation (interpreted evaluation).
INTERPRETED_SQL = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}
#: JAVA_TOOL_OPTIONS of the tests' subprocess JVMs: C1 and, as system properties every new
#: SparkConf reads, interpreted SQL.
SUBPROCESS_JVM_OPTIONS = " ".join([JIT_OPTIONS, *(f"-D{key}={value}" for key, value in INTERPRETED_SQL.items())])
