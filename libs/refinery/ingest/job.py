"""The ``ingest`` job: source files → the ``bronze`` Delta table.

read (:func:`refinery.ingest.batch_reads.read_records`, :func:`refinery.ingest.batch_reads.parse_handed_over`) →
transform (:func:`refinery.ingest.classify.classify_records`) → write (:func:`run`).

This module holds the job's entry (:func:`run`, :func:`preflight`) and the batch's write
(:func:`write_batch`, :func:`rows_not_kept`); where it reads is in :mod:`refinery.ingest.locations`,
what it reads in :mod:`refinery.ingest.batch_reads`, ids and outcomes in
:mod:`refinery.ingest.classify`, the written rows and committed counts in :mod:`refinery.ingest.writes`.

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

**Delta sources** are incremental (:mod:`refinery.ingest.delta_increments`): a batch reads the
table versions after the last one earlier batches read, recorded in ``tables.ingest_state``
after bronze is written; a rerun of a batch reads its recorded versions again.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from refinery.clean.settings import pii_options
from refinery.config import Settings
from refinery.ingest.batch_reads import (
    KEY_COLUMNS,
    ReadRecords,
    count_read,
    keys_of,
    parse_handed_over,
    read_records,
    records_of,
)
from refinery.ingest.classify import classify_records, known_ids, repeat_ranks, shared_groups, with_ids, with_payload
from refinery.ingest.delta_increments import record_increment
from refinery.ingest.jvm_lines import HANDED_OVER_INPUT
from refinery.ingest.locations import auto_batch_name, plan_increments, source_locations
from refinery.ingest.read import list_files
from refinery.ingest.staging import staging_folder, staging_root
from refinery.ingest.writes import (
    BRONZE_PROPERTIES,
    bronze_rows,
    committed_per_reason,
    committed_per_source,
    quarantine_rows,
)
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import Stage, stage
from refinery.sources.records import FILTER, OK, QUARANTINE
from refinery.spark.checkpoint import columnar_cached, release
from refinery.spark.session import job_phase, session_settings
from refinery.spark.tables import read_table, replace_slice, sql_string, table_exists
from refinery.text.pii import PiiOptions

STAGE = "ingest"
#: What the quarantine write and the filtered count read of the rows not kept.
_REST_COLUMNS = ("outcome", "source", "reason", "detail", "id", "payload", "path", "line")
#: What is stored of the rows read again: their keys, and what a handed-over line's parse reads.
_STORED_KEYS = tuple(dict.fromkeys(KEY_COLUMNS + HANDED_OVER_INPUT))


def run(ctx: JobContext) -> JobResult:
    """Ingest every selected source as one batch."""
    settings, spark = ctx.settings, ctx.spark
    cfg = settings.ingest
    with stage(ctx, STAGE) as s:
        locations = source_locations(cfg)
        named = cfg.batch if cfg.batch != "auto" else None
        increments = plan_increments(spark, cfg, locations, settings.tables.ingest_state, named)
        files = {name: list_files(spark, location) for name, location in locations.items() if name not in increments}
        batch = named or auto_batch_name(files, increments)
        ctx.log.info("ingest started", extra={"batch": batch, "sources": sorted(locations)})

        # Line files are planned into read tasks of max_partition_bytes (refinery.sources.splits);
        # Parquet files are split by Spark's own reader, told the same size here. The parsed
        # records' cache is kept uncompressed: to choose a column's encoding, the cache copies
        # and hashes every value of every column batch, which for long, unique texts costs
        # more CPU than the disk it saves.
        run_settings = {
            "spark.sql.files.maxPartitionBytes": str(cfg.max_partition_bytes),
            "spark.sql.inMemoryColumnarStorage.compressed": "false",
        }
        staging = staging_root(cfg.staging_dir, settings.tables.bronze)
        with session_settings(spark, run_settings), staging_folder(spark, staging, ctx.run_id) as folder:
            with job_phase(spark, "plan reads"):
                read = read_records(spark, cfg, locations, increments, files, folder)
            inputs, counts = write_batch(ctx, read, batch, s)
            s.release()
        for increment in increments.values():
            record_increment(spark, settings.tables.ingest_state, increment, batch, ctx.run_id)
        s.rows_in = sum(inputs.values())
        s.outcomes((outcome, reason, n) for _, outcome, reason, n in counts)
    for source in sorted(locations):
        rows = [(outcome, reason, n) for name, outcome, reason, n in counts if name == source]
        details = {"path": ",".join(locations[source]), "format": cfg.sources[source].format}
        if source in increments:
            details.update(versions=increments[source].describe(), read=increments[source].mode)
        s.child(f"{STAGE}/{source}", rows, rows_in=inputs.get(source, 0), details=details)
    return JobResult(batch=batch, stages=s.stages)


def write_batch(
    ctx: JobContext, read: ReadRecords, batch: str, s: Stage
) -> tuple[dict[str, int], list[tuple[str, str, str | None, int]]]:
    """Classify the records ``read`` and replace this batch's slices of ``bronze`` and
    ``quarantine``; the frames stored on the way are held by stage ``s``.

    Returns the parsed records per source (counted before classifying: the input) and the
    ``(source, outcome, reason, count)`` rows of the metrics, counted from what was committed:
    ``ok`` from the bronze commit (its row count for a one-source batch, else its files'
    statistics or the slice read back at the committed version: :func:`committed_per_source`),
    ``quarantine`` from the quarantine commit (the classified counts per reason when the
    commit holds exactly their total, else read back), ``filter`` as classified (filtered
    rows are written nowhere).

    What is read, and how often. The rows cheap to read again (:attr:`ReadRecords.reread`:
    the JVM reader's, Parquet's, Delta's) are read twice: once for their keys (the narrow
    :data:`KEY_COLUMNS`, stored, with the few lines the JVM reader handed over, which are
    parsed then: :func:`parse_handed_over`), and once by the bronze write, which classifies
    each row again from the same small key tables. The rows parsed in Python
    (:attr:`ReadRecords.parsed`) are parsed once and stored whole. So the executors never hold
    a copy of the batch's text, and the write reads it where it lies. Every later pass reads
    the stored keys: the id groups that hold more than one record (:func:`shared_groups`), the ranks of
    records that share an id group (:func:`repeat_ranks`, only when some do), the ids bronze
    already holds (:func:`known_ids`, only when it holds other batches) and the rows not kept
    (:func:`rows_not_kept`)."""
    spark, tables = ctx.spark, ctx.settings.tables
    existing = None
    if table_exists(spark, tables.bronze):
        existing = read_table(spark, tables.bronze).where(F.col("ingest_batch") != batch)
    payload_chars = ctx.settings.ingest.payload_max_chars
    mask = pii_options(ctx.settings.clean.pii) if ctx.settings.ingest.payload_mask else None
    # both stores are filled by the first pass that reads them, which needs no job of its own
    reread_keys = None
    if read.reread is not None:
        reread_keys = s.keep(columnar_cached(read.reread.select(*_STORED_KEYS), eager=False))
    parsed = s.keep(columnar_cached(read.parsed, eager=False)) if read.parsed is not None else None
    known = None
    with job_phase(spark, "read, parse and count input"):
        counted = count_read(reread_keys, parsed)
        inputs = counted.rows
        handed = parse_handed_over(spark, reread_keys, read.handed_over, counted)
        if handed is not None:
            s.keep(handed)
        keys = keys_of(reread_keys, handed, parsed)
        shared = shared_groups(keys)
        if shared is not None:
            s.keep(shared)
    with job_phase(spark, "settle ids"):
        ranks = repeat_ranks(keys, shared)
        if existing is not None:
            known = s.keep(known_ids(with_ids(keys, ranks, batch, ctx.run_id), existing))
    records = records_of(read.reread, handed, parsed)
    with job_phase(spark, "keep rows not kept"):
        rest = s.keep(rows_not_kept(keys, records, ranks, known, batch, ctx.run_id, payload_chars, mask))
    this_batch = f"ingest_batch = {sql_string(batch)}"
    slice_ = f"stage = {sql_string(STAGE)} AND batch = {sql_string(batch)}"
    with job_phase(spark, "write bronze"):
        kept = drop_one_row(bronze_rows(classify_records(records, ranks, known, batch, ctx.run_id)), STAGE)
        written = replace_slice(
            kept, tables.bronze, this_batch, partition_by=["ingest_batch"], properties=BRONZE_PROPERTIES
        )
    with job_phase(spark, "write quarantine"):
        refused = replace_slice(
            quarantine_rows(rest, STAGE, batch, ctx.run_id), tables.quarantine, slice_, partition_by=["stage"]
        )
    with job_phase(spark, "count committed"):
        not_kept = rest.groupBy("outcome", "source", "reason").count().collect()
        bronze = committed_per_source(spark, written, this_batch, list(inputs))
        classified_out = {(r.source, r.reason): int(r["count"]) for r in not_kept if r.outcome == QUARANTINE}
        quarantine = committed_per_reason(spark, refused, slice_, classified_out)
    counts: list[tuple[str, str, str | None, int]] = [(source, OK, None, n) for (source,), n in bronze.items()]
    counts += [(source, QUARANTINE, reason, n) for (source, reason), n in quarantine.items()]
    counts += [(r.source, FILTER, r.reason, int(r["count"])) for r in not_kept if r.outcome == FILTER]
    return inputs, counts


def rows_not_kept(
    keys: DataFrame,
    records: DataFrame,
    ranks: DataFrame | None,
    known: DataFrame | None,
    batch: str,
    run_id: str,
    payload_max_chars: int,
    payload_mask: PiiOptions | None,
) -> DataFrame:
    """The rows not kept (quarantined or filtered; few, as a rule) in :data:`_REST_COLUMNS`,
    computed now and kept, for the quarantine write and the counts.

    Classified from the stored ``keys``: their payload is the reader's (every reader refusal
    has one, and :func:`refinery.ingest.batch_reads.with_event_ts` gives a ``bad_event_ts`` row its record). Only a
    ``duplicate_id_conflict`` is decided here, after the read, so its payload, the record,
    needs the record's text: when there is any, the rows not kept are classified again from
    the whole ``records`` (one more read of them)."""
    classified = classify_records(keys, ranks, known, batch, run_id, conflict_payloads=False)
    not_kept = with_payload(classified.where(F.col("outcome") != OK), payload_max_chars, payload_mask)
    rest = columnar_cached(not_kept.select(*_REST_COLUMNS))
    if ranks is None and known is None:
        return rest  # no id group holds two records: nothing can conflict
    if rest.where((F.col("outcome") == QUARANTINE) & F.col("payload").isNull()).limit(1).count() == 0:
        return rest
    release(rest)
    classified = classify_records(records, ranks, known, batch, run_id)
    not_kept = with_payload(classified.where(F.col("outcome") != OK), payload_max_chars, payload_mask)
    return columnar_cached(not_kept.select(*_REST_COLUMNS))


def preflight(settings: Settings) -> None:
    """Checked by the runner before Spark starts: a local input that is not there is a
    configuration error (exit 2), found now rather than mid-run."""
    source_locations(settings.ingest)
