"""The ``ingest`` job: source files → the ``bronze`` Delta table.

read (:func:`read_records`) → transform (:func:`classify_records`) → write (:func:`run`).

Every input record ends in exactly one place: a ``bronze`` row, a ``quarantine`` row with its
reason and payload, or a counted filter (blank line, exact repeat of a record already kept).

**Ids.** With an ``id`` column, ``id = "<source>:<value>"``. Without one,
``id = sha256(source ␟ content_hash ␟ n)[:32]`` where ``content_hash`` covers text, label and
meta, and ``n`` is the record's rank among identical records of its source in the batch
(ordered by file and line). So re-ingesting the same files yields the same ids, and genuine
repeats inside one delivery stay separate rows for the dedup stage to judge.

**Idempotence.** A batch (``ingest.batch``, by default derived from the input files' paths and
sizes) is one ``ingest_batch`` partition: the job replaces that partition in ``bronze`` and
that batch's ``ingest`` rows in ``quarantine``, so a rerun leaves the tables as one run did.
A record whose id already exists in *another* batch is filtered as ``already_ingested`` when
its content is the same, and quarantined as ``duplicate_id_conflict`` when it differs.
"""

from __future__ import annotations

import glob
import hashlib
import time

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from refinery.config import ConfigError, IngestSettings, SourceSettings, pii_options, resolve_path
from refinery.jobs.context import JobContext, JobResult
from refinery.jobs.faults import drop_one_row
from refinery.report.metrics import StageMetrics
from refinery.sources import reasons
from refinery.sources.records import FILTER, OK, QUARANTINE, Limits
from refinery.spark.checkpoint import checkpointed, release
from refinery.spark.clean_udf import mask_pii
from refinery.spark.committed import committed_rows, grouped_counts
from refinery.spark.ingest_read import read_source
from refinery.spark.session import session_settings
from refinery.spark.tables import read_table, replace_slice, sql_string, table_exists
from refinery.text.pii import PiiOptions

STAGE = "ingest"
_ID_HEX_CHARS = 32  # 128 bits: collisions stay negligible far beyond 10^12 rows


def run(ctx: JobContext) -> JobResult:
    """Ingest every selected source as one batch."""
    settings, spark = ctx.settings, ctx.spark
    cfg = settings.ingest
    started = time.monotonic()
    locations = source_locations(cfg)
    batch = cfg.batch if cfg.batch != "auto" else auto_batch_name(spark, locations)
    ctx.log.info("ingest started", extra={"batch": batch, "sources": sorted(locations)})

    # Files are read whole (see refinery.spark.ingest_read); small ones are packed into a task
    # up to max_partition_bytes, so that setting decides how many tasks share the parsing.
    with session_settings(spark, {"spark.sql.files.maxPartitionBytes": str(cfg.max_partition_bytes)}):
        inputs, counts = write_batch(ctx, read_records(spark, cfg, locations), batch)
    seconds = time.monotonic() - started
    total = [(outcome, reason, n) for _, outcome, reason, n in counts]
    stages = [StageMetrics.from_outcomes(STAGE, total, rows_in=sum(inputs.values()), seconds=seconds)]
    for source in sorted(locations):
        rows = [(outcome, reason, n) for name, outcome, reason, n in counts if name == source]
        details = {"path": ",".join(locations[source]), "format": cfg.sources[source].format}
        stages.append(
            StageMetrics.from_outcomes(f"{STAGE}/{source}", rows, rows_in=inputs.get(source, 0), details=details)
        )
    return JobResult(batch=batch, stages=stages)


def write_batch(
    ctx: JobContext, records: DataFrame, batch: str
) -> tuple[dict[str, int], list[tuple[str, str, str | None, int]]]:
    """Classify ``records`` and replace this batch's slices of ``bronze`` and ``quarantine``.

    Returns the parsed records per source (counted before classifying: the input) and the
    ``(source, outcome, reason, count)`` rows of the metrics: ``ok`` and ``quarantine`` read
    back from the two slices at the versions these writes committed, ``filter`` as classified
    (filtered rows are written nowhere)."""
    spark, tables = ctx.spark, ctx.settings.tables
    existing = None
    if table_exists(spark, tables.bronze):
        existing = read_table(spark, tables.bronze).where(F.col("ingest_batch") != batch)
    payload_chars = ctx.settings.ingest.payload_max_chars
    mask = pii_options(ctx.settings.clean.pii) if ctx.settings.ingest.payload_mask else None
    # the parsed records are counted (the input) and classified from one checkpoint: the files
    # are parsed once
    parsed = checkpointed(records)
    try:
        inputs = {r.source: int(r["count"]) for r in parsed.groupBy("source").count().collect()}
        classified = classify_records(parsed, batch, ctx.run_id, existing, payload_chars, mask)
        # checkpointed, not cached: writing bronze would drop a cache that reads bronze (`existing`)
        # and the quarantine write and counts would classify every input again
        classified = checkpointed(drop_one_row(classified, STAGE))
    finally:
        release(parsed)
    try:
        this_batch = f"ingest_batch = {sql_string(batch)}"
        written = replace_slice(bronze_rows(classified), tables.bronze, this_batch, partition_by=["ingest_batch"])
        slice_ = f"stage = {sql_string(STAGE)} AND batch = {sql_string(batch)}"
        refused = replace_slice(
            quarantine_rows(classified, STAGE, batch, ctx.run_id), tables.quarantine, slice_, partition_by=["stage"]
        )
        bronze = grouped_counts(committed_rows(spark, written), this_batch, ["source"])
        quarantine = grouped_counts(committed_rows(spark, refused), slice_, ["source", "reason"])
        filtered = classified.where(F.col("outcome") == FILTER).groupBy("source", "reason").count().collect()
    finally:
        release(classified)
    counts = [(source, OK, None, n) for (source,), n in bronze.items()]
    counts += [(source, QUARANTINE, reason, n) for (source, reason), n in quarantine.items()]
    counts += [(r.source, FILTER, r.reason, int(r["count"])) for r in filtered]
    return inputs, counts


# --------------------------------------------------------------------------------------------
# read


def source_locations(cfg: IngestSettings) -> dict[str, list[str]]:
    """Absolute locations of each selected source; each local path must match a file."""
    if not cfg.sources:
        raise ConfigError("config key 'ingest.sources': no source defined; fix: add one (see conf/local.yaml)")
    root = resolve_path(cfg.input_root)
    locations = {}
    for name, spec in cfg.selected_sources().items():
        paths = [spec.path] if isinstance(spec.path, str) else spec.path
        resolved = [resolve_path(path, root) for path in paths]
        for location in resolved:
            if "://" not in location and not location.startswith("file:") and not glob.glob(location):
                raise ConfigError(
                    f"config key 'ingest.sources.{name}.path': nothing at {location}; fix: point it at an "
                    "existing file, folder or glob (relative paths start at ingest.input_root)"
                )
        locations[name] = resolved
    if not locations:
        raise ConfigError("config key 'ingest.only': selects no source; fix: name at least one enabled source")
    return locations


def auto_batch_name(spark: SparkSession, locations: dict[str, list[str]]) -> str:
    """``auto-<hash>`` of the sorted (file path, size) of every input file: the same files
    give the same batch, so re-ingesting them replaces rather than appends."""
    listing = []
    for location in locations.values():
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(location)
        listing += [(r.path, r.length) for r in files.select("path", "length").collect()]
    digest = hashlib.sha256(repr(sorted(listing)).encode()).hexdigest()[:12]
    return f"auto-{digest}"


def read_records(spark: SparkSession, cfg: IngestSettings, locations: dict[str, list[str]]) -> DataFrame:
    """All parsed records of all selected sources, with ``event_ts`` resolved per source."""
    limits = Limits(cfg.max_text_chars, cfg.payload_max_chars)
    frames = []
    for name, location in locations.items():
        spec = cfg.sources[name]
        frames.append(with_event_ts(read_source(spark, name, spec, location, limits), spec))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def with_event_ts(records: DataFrame, spec: SourceSettings) -> DataFrame:
    """``event_ts`` from the source's column (format ``event_ts_format``), else the file's
    modification time. A value that does not parse is quarantined as ``bad_event_ts``."""
    raw = F.col("raw_event_ts")
    fmt = spec.event_ts_format
    parsed = F.try_to_timestamp(raw, F.lit(fmt)) if fmt else F.try_to_timestamp(raw)
    records = records.withColumn("event_ts", F.when(raw.isNull(), F.col("file_mtime")).otherwise(parsed))
    unparsed = (F.col("outcome") == OK) & raw.isNotNull() & F.col("event_ts").isNull()
    return mark(records, unparsed, QUARANTINE, reasons.BAD_EVENT_TS, F.lit("event_ts does not parse"))


# --------------------------------------------------------------------------------------------
# transform


def classify_records(
    records: DataFrame,
    batch: str,
    run_id: str,
    existing: DataFrame | None,
    payload_max_chars: int,
    payload_mask: PiiOptions | None = None,
) -> DataFrame:
    """Give good records their id and settle duplicate ids; every row keeps an ``outcome``.

    ``existing`` is bronze without this batch (or ``None`` for an empty table). The result
    has the parsed-record columns plus ``id``, ``ingest_batch``, ``run_id`` and ``payload``
    filled for every quarantined row: PII-masked with ``payload_mask`` when given (before the
    payload is cut to ``payload_max_chars``, so no half of a number survives the cut).
    """
    # One window settles both kinds of id, so the records are shuffled once: a column id
    # groups the records that claim it, a hashed id the identical records of a source.
    # Rejected rows get a unique group so they spread evenly and rank 1.
    good = F.col("outcome") == OK
    keyed = good & F.col("raw_id").isNotNull()
    column_id = F.concat(F.col("source"), F.lit(":"), F.trim(F.col("raw_id")))
    group = (
        F.when(keyed, F.concat(F.lit("id\u241f"), column_id))
        .when(good, F.concat_ws("\u241f", F.lit("content"), F.col("source"), F.col("content_hash")))
        .otherwise(F.concat_ws("\u241f", F.lit("rejected"), F.col("path"), F.col("line").cast("string")))
    )
    window = Window.partitionBy("_group").orderBy("path", "line")
    records = records.withColumn("_group", group)
    records = records.withColumn("_rank", F.row_number().over(window))
    records = records.withColumn("_kept_hash", F.first("content_hash").over(window))
    records = records.withColumn(
        "id", F.when(keyed, column_id).when(good, hashed_id(F.col("_rank"))).otherwise(F.lit(None).cast("string"))
    )
    repeat = keyed & (F.col("_rank") > 1)
    same = F.col("content_hash") == F.col("_kept_hash")
    records = mark(records, repeat & same, FILTER, reasons.DUPLICATE_RECORD, F.lit(None))
    conflict_detail = F.lit("id used by an earlier record of this batch with other content")
    records = mark(records, repeat & ~same, QUARANTINE, reasons.DUPLICATE_ID_CONFLICT, conflict_detail)
    records = records.withColumn("ingest_batch", F.lit(batch)).withColumn("run_id", F.lit(run_id))

    if existing is not None:
        known = existing.select("id", F.col("content_hash").alias("_known_hash"), F.col("ingest_batch").alias("_kb"))
        records = records.join(known, on="id", how="left")
        seen = (F.col("outcome") == OK) & F.col("_known_hash").isNotNull()
        same_known = F.col("content_hash") == F.col("_known_hash")
        records = mark(records, seen & same_known, FILTER, reasons.ALREADY_INGESTED, F.lit(None))
        other_detail = F.concat(F.lit("id already in bronze batch "), F.col("_kb"), F.lit(" with other content"))
        records = mark(records, seen & ~same_known, QUARANTINE, reasons.DUPLICATE_ID_CONFLICT, other_detail)

    payload = F.coalesce(F.col("payload"), F.to_json(_record_struct()))
    if payload_mask is not None:
        payload = mask_pii(F.when(F.col("outcome") == QUARANTINE, payload), payload_mask)
    records = records.withColumn(
        "payload", F.when(F.col("outcome") == QUARANTINE, F.substring(payload, 1, payload_max_chars))
    )
    return records.drop(*[c for c in records.columns if c.startswith("_")])


def hashed_id(occurrence: Column) -> Column:
    """``sha256(source ␟ content_hash ␟ occurrence)[:32]``: ``occurrence`` is the record's
    rank among the identical records of its source (by file and line), so the id is unique
    within the batch and the same whenever the same files are ingested."""
    key = F.concat_ws("\u241f", F.col("source"), F.col("content_hash"), occurrence.cast("string"))
    return F.substring(F.sha2(key, 256), 1, _ID_HEX_CHARS)


def mark(records: DataFrame, condition: Column, outcome: str, reason: str, detail: Column) -> DataFrame:
    """Set ``outcome``/``reason``/``detail`` on the good rows matching ``condition``."""
    hit = (F.col("outcome") == OK) & condition
    return (
        records.withColumn("reason", F.when(hit, F.lit(reason)).otherwise(F.col("reason")))
        .withColumn("detail", F.when(hit, detail).otherwise(F.col("detail")))
        .withColumn("outcome", F.when(hit, F.lit(outcome)).otherwise(F.col("outcome")))
    )


def _record_struct() -> Column:
    return F.struct(
        F.col("raw_id").alias("id"),
        "text",
        "label",
        F.col("raw_event_ts").alias("event_ts"),
        "meta",
    )


def bronze_rows(classified: DataFrame) -> DataFrame:
    """The rows that go to ``bronze``, in its schema."""
    return classified.where(F.col("outcome") == OK).select(
        "id",
        "text",
        "label",
        "source",
        "event_ts",
        "ingest_batch",
        "meta",
        "content_hash",
        F.col("path").alias("source_path"),
        F.col("line").alias("source_line"),
        F.col("encoding").alias("source_encoding"),
        "run_id",
    )


def quarantine_rows(classified: DataFrame, stage: str, batch: str, run_id: str) -> DataFrame:
    """The rows that go to ``quarantine``, in its schema."""
    return classified.where(F.col("outcome") == QUARANTINE).select(
        F.lit(run_id).alias("run_id"),
        F.lit(stage).alias("stage"),
        F.lit(batch).alias("batch"),
        "source",
        "reason",
        "detail",
        F.col("id").alias("record_id"),
        "payload",
        F.col("path").alias("source_path"),
        F.col("line").alias("source_line"),
        F.current_timestamp().alias("quarantined_at"),
    )
