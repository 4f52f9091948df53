"""The ``clean`` job: ``bronze`` → ``silver``.

read (bronze, one ``ingest_batch`` or all) → transform (:func:`clean_records`: normalize,
language ID, PII masking, segmentation, one pandas batch at a time) → write (MERGE into
``silver`` on ``id``; refused rows to ``quarantine``; one ``metrics`` row).

``silver`` holds the normalized, PII-masked text only: the original stays in ``bronze``.
Reruns are idempotent: the MERGE updates the batch's rows, deletes those of the batch that
are no longer accepted, and the batch's ``clean`` quarantine rows are replaced.
"""

from __future__ import annotations

import time

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from refinery.config import CleanSettings, ConfigError
from refinery.jobs.context import JobContext, JobResult
from refinery.report.metrics import StageMetrics
from refinery.spark.clean_udf import clean_records
from refinery.spark.tables import merge_rows, read_table, replace_slice, sql_string, table_exists
from refinery.text.chain import LANGUAGE_NOT_ALLOWED, LANGUAGE_UNDETERMINED, OK, QUARANTINE, CleanOptions
from refinery.text.langid import LangIdOptions
from refinery.text.normalize import NormalizeOptions
from refinery.text.pii import ALL_TYPES, PiiOptions
from refinery.text.segment import SegmentOptions

STAGE = "clean"
ALL_BATCHES = "*"


def run(ctx: JobContext) -> JobResult:
    """Clean ``clean.batch`` (or all of bronze) into silver."""
    settings, spark = ctx.settings, ctx.spark
    cfg = settings.clean
    started = time.monotonic()
    if not table_exists(spark, settings.tables.bronze):
        raise ConfigError(
            f"config key 'tables.bronze': no Delta table at {settings.tables.bronze}; fix: run ingest first"
        )
    bronze = read_table(spark, settings.tables.bronze)
    if cfg.batch is not None:
        bronze = bronze.where(F.col("ingest_batch") == cfg.batch)
    batch = cfg.batch or ALL_BATCHES
    ctx.log.info("clean started", extra={"batch": batch})

    cleaned = clean_records(bronze, clean_options(cfg)).persist()
    try:
        scope = None if cfg.batch is None else f"t.ingest_batch = {sql_string(cfg.batch)}"
        merge_rows(spark, silver_rows(cleaned, ctx.run_id), settings.tables.silver, scope=scope or "true")
        predicate = f"stage = {sql_string(STAGE)}"
        if cfg.batch is not None:
            predicate += f" AND batch = {sql_string(cfg.batch)}"
        replace_slice(quarantine_rows(cleaned, ctx.run_id), settings.tables.quarantine, predicate, ["stage"])
        counts = cleaned.groupBy("outcome", "reason").count().collect()
        details = run_details(cleaned.where(F.col("outcome") == OK))
    finally:
        cleaned.unpersist()
    stage = StageMetrics.from_outcomes(
        STAGE, [(r.outcome, r.reason, r["count"]) for r in counts], seconds=time.monotonic() - started
    )
    stage.details = details
    return JobResult(batch=batch, stages=[stage])


def clean_options(cfg: CleanSettings) -> CleanOptions:
    """The pure chain's options from the validated config."""
    n, lid, seg, pii = cfg.normalize, cfg.langid, cfg.segment, cfg.pii
    pii_options = PiiOptions(
        types=tuple(pii.types) if pii.types is not None else ALL_TYPES,
        tokens=pii.tokens,  # overrides the defaults type by type
        public_ip_only=pii.public_ip_only,
    )
    return CleanOptions(
        normalize=NormalizeOptions(**n.model_dump()),
        langid=LangIdOptions(
            backend=lid.backend,
            languages=tuple(lid.languages) if lid.languages is not None else None,
            min_score=lid.min_score,
            short_text_chars=lid.short_text_chars,
            mixed_min_share=lid.mixed_min_share,
        ),
        pii=pii_options,
        segment=SegmentOptions(
            engine=seg.engine, hmm=seg.hmm, user_dict=seg.user_dict, cache_dir=seg.cache_dir, lowercase=seg.lowercase
        ),
        allowed_languages=tuple(cfg.allowed_languages) if cfg.allowed_languages is not None else None,
        on_disallowed_language=cfg.on_disallowed_language,
    )


def silver_rows(cleaned: DataFrame, run_id: str) -> DataFrame:
    """The accepted rows in silver's columns."""
    return cleaned.where(F.col("outcome") == OK).select(
        "id",
        F.col("clean_text").alias("text"),
        "label",
        "source",
        "event_ts",
        "ingest_batch",
        "meta",
        "content_hash",
        "lang",
        "lang_score",
        "mixed",
        "lang_shares",
        (~F.coalesce(F.col("reason"), F.lit("")).isin(LANGUAGE_NOT_ALLOWED, LANGUAGE_UNDETERMINED)).alias(
            "lang_allowed"
        ),
        "tokens",
        "n_tokens",
        "pii_counts",
        "norm_steps",
        F.lit(run_id).alias("clean_run_id"),
        F.current_timestamp().alias("cleaned_at"),
    )


def quarantine_rows(cleaned: DataFrame, run_id: str) -> DataFrame:
    """The refused rows in quarantine's columns. The payload is the *cleaned* (PII-masked)
    text when there is one: quarantine must not become a second copy of the raw PII."""
    payload = F.coalesce(F.col("clean_text"), F.lit(""))
    return cleaned.where(F.col("outcome") == QUARANTINE).select(
        F.lit(run_id).alias("run_id"),
        F.lit(STAGE).alias("stage"),
        F.col("ingest_batch").alias("batch"),
        "source",
        "reason",
        "detail",
        F.col("id").alias("record_id"),
        payload.alias("payload"),
        F.lit(None).cast("string").alias("source_path"),
        F.lit(None).cast("long").alias("source_line"),
        F.current_timestamp().alias("quarantined_at"),
    )


def run_details(accepted: DataFrame) -> dict[str, str]:
    """Distributions for the metrics row: documents per language, PII found per type and
    documents changed per normalization step. Counts only, never text."""
    langs = {r.lang: r["count"] for r in accepted.groupBy("lang").count().collect()}
    pii = accepted.select(F.explode("pii_counts").alias("type", "n")).groupBy("type").agg(F.sum("n").alias("n"))
    steps = accepted.select(F.explode("norm_steps").alias("step")).groupBy("step").count()
    details = {f"lang.{k}": str(v) for k, v in sorted(langs.items(), key=lambda kv: str(kv[0]))}
    details |= {f"pii.{r.type}": str(r.n) for r in pii.collect()}
    details |= {f"normalize.{r.step}": str(r["count"]) for r in steps.collect()}
    return details
