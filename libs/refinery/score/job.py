"""The ``score`` job: out-of-sample confidence of every labelled ``silver`` row, written back
as filter columns.

read (one pinned ``silver`` version) → featurize (on the executors, into shards of bags under
``score.work_dir``, :func:`refinery.score.udf.write_bag_shards`; the driver receives
where the shards are, never a row) → train (per group, on its shards gathered into one
memory-mapped folder, :mod:`refinery.score.dataset`: K-fold cross-fitting with a per-sample
EMA over epochs, :mod:`refinery.score.crossfit`, blended with the label vote of each row's
nearest neighbours, :mod:`refinery.score.neighbours`) → stage (each shard's scores as Parquet,
reading back that shard's row ids only) → flag (confident learning with Spark aggregations,
:mod:`refinery.score.spark_confident_learning`, or a fixed threshold) → write (the
:data:`SCORE_COLUMNS` of every scored row by MERGE on ``id`` into the current ``silver``;
one ``metrics`` row).

Rows and what happens to them (the stage's counts reconcile: ``rows_in`` = the rows of the
pinned version, counted by Spark per group and label before anything is featurized; ``ok`` =
the rows that hold this run's :data:`DECIDED_COLUMNS` values in the silver version the MERGE
committed, read back, since the MERGE rewrites only rows whose values change; filtered as
decided):

* ``ok``: a labelled row of a trained class gets every column; an unlabelled row of a
  trained group gets ``pred_label``, ``pred_prob``, ``margin`` and ``entropy`` from its group's fold models,
  run on the executors (:mod:`refinery.score.udf`), and null confidence;
* filtered ``class_too_small``: a label with fewer than ``score.min_class_rows`` rows in its
  group (no model can learn it, so no confidence is given);
* filtered ``group_not_trainable``: a group with fewer than two trainable classes.

Columns: ``confidence`` = EMA of p(given label) across epochs (the model's alone);
``label_quality`` (config: self-confidence or normalized margin) and ``is_noisy`` of the
blended probabilities ``(p_model + w · q_neighbours) / (1 + w)`` (``score.neighbours``), as are
``pred_label``, ``pred_prob``, ``margin`` and ``entropy`` of labelled rows; ``pred_label`` =
argmax class, ``pred_prob`` its probability; ``margin`` = p₁ − p₂,
the gap between the two most probable classes; ``entropy`` = −Σ p log p (nats);
``is_noisy``; ``score_run`` (this run's id) and ``score_version`` (the silver version the
scores were computed on: time travel to it shows exactly the data the models saw).

A rerun with the same seed on the same version writes the same values (and the MERGE skips
rows whose values did not change).

This module holds the job's entry (:func:`run`) and its count of the input; one group's
training is in :mod:`refinery.score.group_fit` (its neighbour vote in
:mod:`refinery.score.neighbour_vote`), the written columns in :mod:`refinery.score.predictions`.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import torch
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from refinery.config import ConfigError
from refinery.runtime.context import JobContext, JobResult, check_group_by, silver_location
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.score.group_fit import featurized_groups, group_key, group_result, score_group
from refinery.score.model import resolve_device
from refinery.score.predictions import score_columns
from refinery.spark.committed import committed_rows, rows_holding
from refinery.spark.schemas import SILVER_SCORE
from refinery.spark.snapshot import pin_snapshot
from refinery.spark.tables import add_missing_columns, update_rows

STAGE = "score"
#: The columns this job owns in silver (:data:`refinery.spark.schemas.SILVER_SCORE`): name → SQL type.
SCORE_COLUMNS = SILVER_SCORE.sql_types()
#: The columns that carry a decision (all but the run's id).
DECIDED_COLUMNS = [name for name in SCORE_COLUMNS if name != "score_run"]


def run(ctx: JobContext) -> JobResult:
    """Score every labelled row of the latest silver version."""
    spark, cfg = ctx.spark, ctx.settings.score
    with stage(ctx, STAGE) as s:
        location = silver_location(ctx)
        add_missing_columns(spark, location, SCORE_COLUMNS)
        snapshot = pin_snapshot(spark, location)  # the version with the score columns: the MERGE adds no schema change
        check_group_by(snapshot.frame.columns, "score.group_by", cfg.group_by)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("config key 'score.device': cuda, but torch sees no CUDA GPU here; fix: auto or cpu")
        device = resolve_device(cfg.device)
        if cfg.threads is not None:
            torch.set_num_threads(cfg.threads)
        ctx.log.info("score started", extra={"version": snapshot.version, "device": str(device)})

        work = Path(cfg.work_dir) / ctx.run_id
        shutil.rmtree(work, ignore_errors=True)
        created = [p for p in (work, *work.parents) if not p.exists()]  # removed again when empty
        try:
            with s.phase("count input"):
                counts = label_counts(snapshot.frame, cfg.group_by)
            s.rows_in = sum(sum(c.values()) for c in counts.values())
            results = [group_result(name, c, cfg.min_class_rows) for name, c in sorted(counts.items())]
            with s.phase("featurize"):
                stores = featurized_groups(spark, snapshot.frame, results, cfg, work)
            featurized = sum(len(store) for store in stores.values())
            ctx.log.info("featurized", extra={"rows": featurized, "seconds": round(s.elapsed, 1)})
            models = {}
            for result in results:
                if result.name not in stores:
                    continue
                trained_before = s.phases.get("train", 0.0)
                with s.phase("train"):
                    group_models = score_group(result, stores[result.name], cfg, device, work)
                ctx.log.info(
                    "group scored",
                    extra={
                        "group": result.name,
                        "rows": result.scored,
                        "classes": len(result.classes),
                        "seconds": round(s.phases["train"] - trained_before, 1),
                    },
                )
                if group_models is not None:
                    models[result.name] = group_models
            columns = score_columns(spark, work / "scores", snapshot.frame, results, models, cfg)
            updated = noisy = scored = 0
            if columns is not None:
                columns = columns.withColumn("score_version", F.lit(snapshot.version).cast("long")).withColumn(
                    "score_run", F.lit(ctx.run_id)
                )
                with s.phase("flags"):
                    columns = s.hold(drop_one_row(columns, STAGE))
                    noisy = columns.where("is_noisy").count()
                with s.phase("merge"):
                    commit = update_rows(spark, columns, location, changed=DECIDED_COLUMNS)
                updated = commit.rows_updated
                # the MERGE rewrites only changed rows: the scored rows are counted in what it left
                with s.phase("count committed"):
                    scored = rows_holding(committed_rows(spark, commit), columns, "id", DECIDED_COLUMNS)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            for folder in created[1:]:
                with contextlib.suppress(OSError):  # not empty: another run's scratch, or the user's
                    folder.rmdir()
        filtered = sum((r.filtered for r in results), Counter())
        s.out(scored)
        s.outcomes(("filter", reason, count) for reason, count in sorted(filtered.items()))
    s.details = {
        "silver_version": str(snapshot.version),
        "device": str(device),
        "processes": str(cfg.processes),
        "groups": str(len(results)),
        "labelled_scored": str(sum(r.scored for r in results)),
        "unlabelled_predicted": str(sum(r.unlabelled for r in results)),
        "is_noisy": str(noisy),
        "rows_updated": str(updated),
    }
    return JobResult(batch=f"v{snapshot.version}", stages=s.stages)


def label_counts(frame: DataFrame, group_by: str | None) -> dict[str, Counter]:
    """Rows per group and given label (``None``: unlabelled), counted by Spark on the pinned
    version: the job's independent count of its input."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in frame.groupBy(group_key(group_by).alias("_group"), "label").count().collect():
        counts[row["_group"]][row["label"]] += row["count"]
    return dict(counts)
