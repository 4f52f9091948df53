"""Computing a frame once for several uses: held in executor storage, its lineage cut.

A job that reads an intermediate frame more than once (counts, then a write, then metrics)
computes it once with :func:`checkpointed` and frees it with :func:`release`. Why not
``persist()``:

* **A Delta write invalidates it.** After a commit to a table, Spark drops the cached data of
  every persisted frame whose plan reads that table and rebuilds it lazily *from the new
  version*: a frame persisted before ``MERGE INTO silver`` and read after it is silently
  recomputed against the updated silver (different rows, the whole cost again). A job that
  reads a table and writes it (ingest: bronze; dedup: silver) cannot rely on a cache.
* **Adaptive execution re-plans it.** Each reference to a cached relation inside a larger plan
  becomes a query stage of its own; in the dedup job's plans (a cached frame referenced a few
  times, unions and self-joins of others) a union of two cached frames ran many times the Spark
  jobs, and took many times as long, as the same frames checkpointed (no bench result keeps
  the comparison; ``bench/dedup_bench.py``, whose ``phase.<name>.ms`` times dedup's phases, is
  where it would be measured).

A locally checkpointed frame's plan is just its stored partitions: nothing upstream is read
again. The price is fault tolerance: the partitions live on the executors that computed them
(memory, spilling to disk), and a lost executor fails the job instead of recomputing them.

A checkpoint stores whole rows, so every later read of it, however narrow, decodes every
column of every row. A wide frame read mostly through narrow columns (ingest's parsed records:
counted, keyed and filtered on a few short columns, their text read once by the write) is
better kept by :func:`columnar_cached`, when its plan reads no table the job writes.
"""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame


def checkpointed(frame: DataFrame) -> DataFrame:
    """``frame`` computed now and stored on the executors, with its lineage cut; free it with
    :func:`release` once whatever reads it has run."""
    return frame.localCheckpoint(eager=True)


def columnar_cached(frame: DataFrame, eager: bool = True) -> DataFrame:
    """``frame`` in Spark's columnar cache, on the executors' local disk, computed now (or,
    with ``eager=False``, by the first action on the result, which then needs no job of its
    own); free it with :func:`release`.

    On disk only: a partition kept in memory must be unrolled whole first, and one read task
    may hold a whole ``.gz`` file's records (a 1 GB one ran a 2 GB driver out of heap), while
    blocks on disk are written and read as streams and mostly stay in the OS page cache.

    A read of the cache decodes only the columns it needs, so narrow reads of a wide frame
    cost little.

    Only for a frame whose plan reads no table that the job then writes (see the module
    docstring: a commit to such a table would drop the cache and recompute the frame from the
    new version), and whose plan is deterministic: an evicted or lost block is recomputed."""
    cached = frame.persist(StorageLevel.DISK_ONLY)
    if eager:
        cached.count()
    return cached


def release(*frames: DataFrame) -> None:
    """Free the executor storage of frames made by :func:`checkpointed` (or ``persist()``).

    ``DataFrame.unpersist`` only drops cache-manager entries; a checkpoint's partitions belong
    to the RDD under its plan, which is unpersisted here. A released checkpoint must not be
    read again."""
    for frame in frames:
        plan = frame._jdf.queryExecution().logical()
        if plan.getClass().getSimpleName() == "LogicalRDD":
            plan.rdd().unpersist(False)
        else:
            frame.unpersist()
