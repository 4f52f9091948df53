"""The ``ingest`` job: source files → the ``bronze`` Delta table.

read (:func:`read_records`, :func:`parse_handed_over`) → transform (:func:`classify_records`) → write (:func:`run`).

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

import glob
import hashlib
import os
from functools import reduce
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from refinery.clean.settings import pii_options
from refinery.clean.udf import mask_pii
from refinery.config import CATALOG_PREFIX, ConfigError, Settings, resolve_path
from refinery.ingest.delta_increments import Increment, plan_increment, record_increment
from refinery.ingest.jvm_lines import HANDED_OVER_COLUMNS, HANDED_OVER_INPUT, HandedOverLines
from refinery.ingest.read import SourceRead, list_files, read_source, with_no_lines_handed_over
from refinery.ingest.settings import IngestSettings, SourceSettings
from refinery.ingest.staging import staging_folder, staging_root
from refinery.ingest.table_sources import delta_records
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import Stage, stage
from refinery.sources import reasons
from refinery.sources.records import FILTER, OK, QUARANTINE, Limits
from refinery.sources.splits import InputFile
from refinery.spark.checkpoint import checkpointed, columnar_cached, release
from refinery.spark.committed import Commit, added_rows_per_value, committed_rows, grouped_counts
from refinery.spark.session import job_phase, session_settings
from refinery.spark.tables import read_table, replace_slice, sql_string, table_exists
from refinery.text.pii import PiiOptions

STAGE = "ingest"
_ID_HEX_CHARS = 32  # 128 bits: collisions stay negligible far beyond 10^12 rows
#: Rows of a key table (repeated ids, ids already in bronze) broadcast to the records' join:
#: about 200 bytes a row, so at most about 40 MB held by each executor.
BROADCAST_MAX_ROWS = 200_000
#: Bronze columns Delta keeps min/max statistics of (for data skipping; ``ingest_batch`` is the
#: partition column, skipped by its value). Not ``text``, ``meta`` or ``content_hash``: long or
#: random values that no reader filters on, whose statistics cost the write per row.
BRONZE_STATS_COLUMNS = (
    "id",
    "label",
    "source",
    "event_ts",
    "source_path",
    "source_line",
    "source_encoding",
    "run_id",
)
BRONZE_PROPERTIES = {"delta.dataSkippingStatsColumns": ",".join(BRONZE_STATS_COLUMNS)}
#: What the quarantine write and the filtered count read of the rows not kept.
_REST_COLUMNS = ("outcome", "source", "reason", "detail", "id", "payload", "path", "line")
#: The columns of a parsed record that settle its outcome and id: what is stored of the rows
#: read again for the write (:func:`write_batch`). ``payload`` is set on refused rows only.
KEY_COLUMNS = ("source", "path", "line", "outcome", "reason", "detail", "payload", "raw_id", "content_hash")
#: What is stored of the rows read again: their keys, and what a handed-over line's parse reads.
_STORED_KEYS = tuple(dict.fromkeys(KEY_COLUMNS + HANDED_OVER_INPUT))
#: At most this many lines handed over by the JVM reader, of at most this many bytes in all,
#: are parsed in the driver (:func:`parse_handed_over`); more are parsed in Python workers.
HANDED_OVER_IN_DRIVER_ROWS = 20_000
HANDED_OVER_IN_DRIVER_BYTES = 64 << 20


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
    has one, and :func:`with_event_ts` gives a ``bad_event_ts`` row its record). Only a
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


def committed_per_source(spark: SparkSession, commit: Commit, where: str, sources: list[str]) -> dict[tuple, int]:
    """Rows the bronze ``commit`` holds per source, in the slice ``where``: from the commit's
    own row count when the batch has one source, else from the statistics of the files it
    added when each holds one source (:func:`added_rows_per_value`; no read-back either way),
    else read back from the slice at the committed version."""
    held = commit.recorded_rows
    if len(sources) == 1 and held is not None:
        return {(sources[0],): held}
    per_file = added_rows_per_value(commit, "source")
    if per_file is not None:
        return {(source,): n for source, n in per_file.items()}
    return grouped_counts(committed_rows(spark, commit), where, ["source"])


def committed_per_reason(
    spark: SparkSession, commit: Commit, where: str, classified: dict[tuple, int]
) -> dict[tuple, int]:
    """Rows the quarantine ``commit`` holds per (source, reason), in the slice ``where``: the
    ``classified`` counts when the commit's own row count equals their total (nothing was
    lost or added on the way, so no read-back is needed), else read back from the slice at
    the committed version, which then tells what the table really holds."""
    if commit.recorded_rows == sum(classified.values()):
        return classified
    return grouped_counts(committed_rows(spark, commit), where, ["source", "reason"])


# --------------------------------------------------------------------------------------------
# read


def preflight(settings: Settings) -> None:
    """Checked by the runner before Spark starts: a local input that is not there is a
    configuration error (exit 2), found now rather than mid-run."""
    source_locations(settings.ingest)


def source_locations(cfg: IngestSettings) -> dict[str, list[str]]:
    """Absolute locations of each selected source; each local path must match a file (a
    Delta source's local folder must hold a ``_delta_log``; catalog tables and other URIs are
    checked once Spark runs)."""
    if not cfg.sources:
        raise ConfigError("config key 'ingest.sources': no source defined; fix: add one (see conf/local.yaml)")
    root = resolve_path(cfg.input_root)
    locations = {}
    for name, spec in cfg.selected_sources().items():
        paths = [spec.path] if isinstance(spec.path, str) else spec.path
        resolved = [resolve_path(path, root) for path in paths]
        for location in resolved:
            local = "://" not in location and not location.startswith(("file:", CATALOG_PREFIX))
            if spec.format == "delta":
                if local and not os.path.isdir(os.path.join(location, "_delta_log")):
                    raise ConfigError(
                        f"config key 'ingest.sources.{name}.path': no Delta table at {location} (no _delta_log "
                        "folder); fix: point it at a Delta table's folder or catalog:db.table (plain Parquet "
                        "files are format: parquet)"
                    )
            elif local and not glob.glob(location):
                raise ConfigError(
                    f"config key 'ingest.sources.{name}.path': nothing at {location}; fix: point it at an "
                    "existing file, folder or glob (relative paths start at ingest.input_root)"
                )
        locations[name] = resolved
    if not locations:
        raise ConfigError("config key 'ingest.only': selects no source; fix: name at least one enabled source")
    return locations


def plan_increments(
    spark: SparkSession, cfg: IngestSettings, locations: dict[str, list[str]], state: str, batch: str | None
) -> dict[str, Increment]:
    """The table versions ``batch`` reads of each Delta source (``None``: an ``auto`` batch,
    named after them); a rewritten source stops the run here, before anything is written."""
    return {
        name: plan_increment(spark, name, location[0], state, batch, cfg.sources[name].full_refresh)
        for name, location in locations.items()
        if cfg.sources[name].format == "delta"
    }


def auto_batch_name(files: dict[str, list[InputFile]], increments: dict[str, Increment] | None = None) -> str:
    """``auto-<hash>`` of the sorted (file path, size) of every input file (``files``: per
    file source, from :func:`refinery.ingest.read.list_files`), and of each Delta
    source's (table id, versions read): the same input gives the same batch, so re-ingesting
    it replaces rather than appends."""
    listing: list[tuple] = [(i.table_id, i.start, i.end) for i in (increments or {}).values()]
    listing += [(file.path, file.size) for found in files.values() for file in found]
    digest = hashlib.sha256(repr(sorted(listing, key=repr)).encode()).hexdigest()[:12]
    return f"auto-{digest}"


class ReadRecords(NamedTuple):
    """The rows of every selected source, ``event_ts`` resolved, in two parts
    (:class:`refinery.ingest.read.SourceRead`): ``reread``, the rows that cost little to
    read again (JVM reader, Parquet, Delta), with the lines the JVM reader handed over still
    unparsed, and ``parsed``, the rows parsed in Python workers (each ``None`` when no source
    gives any); and how to parse the handed-over lines, per source."""

    reread: DataFrame | None
    parsed: DataFrame | None
    handed_over: dict[str, HandedOverLines]


def read_records(
    spark: SparkSession,
    cfg: IngestSettings,
    locations: dict[str, list[str]],
    increments: dict[str, Increment] | None = None,
    files: dict[str, list[InputFile]] | None = None,
    staging: str | None = None,
) -> ReadRecords:
    """The records of all selected sources (see :class:`ReadRecords`); a Delta source
    contributes the rows of its increment (from :func:`plan_increments`). ``files`` holds the
    files of file sources when they are listed already (else they are listed here);
    ``staging`` is the run's staging folder (:mod:`refinery.ingest.staging`), which
    must outlive the returned frames' last read."""
    limits = Limits(cfg.max_text_chars, cfg.payload_max_chars, cfg.max_line_bytes)
    reread, parsed, handed_over = [], [], {}
    for name, location in locations.items():
        spec = cfg.sources[name]
        if spec.format == "delta":
            if increments is None or name not in increments:
                raise ValueError(f"Delta source {name!r} has no planned increment; call plan_increments first")
            read = SourceRead(
                with_no_lines_handed_over(delta_records(spark, name, spec, increments[name], limits)), None, None
            )
        else:
            listed = (files or {}).get(name)
            read = read_source(
                spark, name, spec, location, limits, cfg.max_partition_bytes, cfg.jvm_reader, listed, staging
            )
        if read.reread is not None:
            reread.append(with_event_ts(read.reread, spec))
        if read.parsed is not None:
            parsed.append(with_event_ts(read.parsed, spec))
        if read.handed_over is not None:
            handed_over[name] = read.handed_over
    return ReadRecords(_union(reread), _union(parsed), handed_over)


def _union(frames: list[DataFrame]) -> DataFrame | None:
    return reduce(DataFrame.unionByName, frames) if frames else None


class ReadCounts(NamedTuple):
    """What :func:`count_read` counts: records read per source, and the lines the JVM reader
    handed over (their number and bytes)."""

    rows: dict[str, int]
    handed_over_rows: int
    handed_over_bytes: int


def count_read(reread_keys: DataFrame | None, parsed: DataFrame | None) -> ReadCounts:
    """The records read per source, counted on the stored rows (``reread_keys``, the keys of
    :attr:`ReadRecords.reread`, and ``parsed``), by the pass that fills them: the input of the
    reconciliation. Each handed-over line is one record, parsed later."""
    rows: dict[str, int] = {}
    handed_rows = handed_bytes = 0
    if reread_keys is not None:
        raw = F.col("_raw")
        found = reread_keys.groupBy("source").agg(
            F.count(F.lit(1)).alias("n"), F.count(raw).alias("handed"), F.sum(F.length(raw)).alias("bytes")
        )
        for r in found.collect():
            rows[r.source] = int(r.n)
            handed_rows += int(r.handed)
            handed_bytes += int(r.bytes or 0)
    if parsed is not None:
        for r in parsed.groupBy("source").count().collect():
            rows[r.source] = rows.get(r.source, 0) + int(r["count"])
    return ReadCounts(rows, handed_rows, handed_bytes)


def parse_handed_over(
    spark: SparkSession, stored: DataFrame | None, handed_over: dict[str, HandedOverLines], counted: ReadCounts
) -> DataFrame | None:
    """The rows of ``stored`` (the stored keys of :attr:`ReadRecords.reread`) whose lines the
    JVM reader handed over, parsed in Python and ``event_ts`` resolved, computed now and kept;
    ``None`` when there are none (``counted``, from :func:`count_read`).

    Up to :data:`HANDED_OVER_IN_DRIVER_ROWS` of those lines (and
    :data:`HANDED_OVER_IN_DRIVER_BYTES`) are collected and parsed in the driver, which costs
    far less than starting a Python worker per read task;
    more are parsed in Python workers (:meth:`HandedOverLines.parsed`)."""
    if not handed_over or stored is None or counted.handed_over_rows == 0:
        return None
    lines = stored.where(F.col("_raw").isNotNull())
    here = (
        counted.handed_over_rows <= HANDED_OVER_IN_DRIVER_ROWS
        and counted.handed_over_bytes <= HANDED_OVER_IN_DRIVER_BYTES
    )
    rows = lines.select(*HANDED_OVER_INPUT).collect() if here else []
    parsed = []
    for name, handed in handed_over.items():
        if here:
            records = handed.parsed_here(spark, [row for row in rows if row["source"] == name])
        else:
            records = handed.parsed(lines.where(F.col("source") == name))
        parsed.append(with_event_ts(records, handed.spec))
    return checkpointed(reduce(DataFrame.unionByName, parsed))


def keys_of(reread_keys: DataFrame | None, handed: DataFrame | None, parsed: DataFrame | None) -> DataFrame:
    """The :data:`KEY_COLUMNS` of every parsed record: of the stored keys of the rows read
    again (``reread_keys``) but the handed-over lines, of those lines parsed (``handed``, from
    :func:`parse_handed_over`), and of the stored rows parsed in Python (``parsed``)."""
    frames = []
    if reread_keys is not None:
        frames.append(reread_keys.where(F.col("_raw").isNull()).select(*KEY_COLUMNS))
    frames += [frame.select(*KEY_COLUMNS) for frame in (handed, parsed) if frame is not None]
    return reduce(DataFrame.unionByName, frames)


def records_of(reread: DataFrame | None, handed: DataFrame | None, parsed: DataFrame | None) -> DataFrame:
    """Every parsed record, whole: the rows read again (``reread``, read once more here) but
    the lines the JVM reader handed over, those lines parsed (``handed``), and the stored
    rows parsed in Python (``parsed``)."""
    frames = []
    if reread is not None:
        frames.append(reread.where(F.col("_raw").isNull()).drop(*HANDED_OVER_COLUMNS))
    frames += [frame for frame in (handed, parsed) if frame is not None]
    return reduce(DataFrame.unionByName, frames)


def with_event_ts(records: DataFrame, spec: SourceSettings) -> DataFrame:
    """``event_ts`` from the source's column (format ``event_ts_format``), else the file's
    modification time. A value that does not parse is quarantined as ``bad_event_ts``, with
    the record as its payload (as JSON, as for a refusal decided after the read)."""
    raw = F.col("raw_event_ts")
    fmt = spec.event_ts_format
    parsed = F.try_to_timestamp(raw, F.lit(fmt)) if fmt else F.try_to_timestamp(raw)
    records = records.withColumn("event_ts", F.when(raw.isNull(), F.col("file_mtime")).otherwise(parsed))
    unparsed = (F.col("outcome") == OK) & raw.isNotNull() & F.col("event_ts").isNull()
    records = mark(records, unparsed, QUARANTINE, reasons.BAD_EVENT_TS, F.lit("event_ts does not parse"))
    # every row a reader refused has its payload already
    return records.withColumn(
        "payload", F.coalesce(F.col("payload"), F.when(F.col("outcome") == QUARANTINE, record_json()))
    )


# --------------------------------------------------------------------------------------------
# transform


def classify_records(
    records: DataFrame,
    ranks: DataFrame | None,
    known: DataFrame | None,
    batch: str,
    run_id: str,
    conflict_payloads: bool = True,
) -> DataFrame:
    """Give good records their id and settle duplicate ids; every row keeps an ``outcome``.

    ``ranks`` is :func:`repeat_ranks` of the records (``None``: no id group holds two records),
    ``known`` is :func:`known_ids` of them (``None``: bronze holds no other batch). The result
    has the columns of ``records`` plus ``id``, ``ingest_batch`` and ``run_id``; a record
    quarantined here (``duplicate_id_conflict``) gets itself as JSON in ``payload``, unless
    ``conflict_payloads`` is false (for ``records`` that are keys only, without the text).

    Each row is classified from itself and the two small key tables, which are joined to it
    broadcast when small (as they are unless a batch repeats itself or bronze on a large
    scale): so classifying the records again, as the write and the key passes do, gives the
    same outcome every time.
    """
    records = with_ids(records, ranks, batch, run_id)
    if known is not None:
        records = records.join(known, on="id", how="left")
        seen = (F.col("outcome") == OK) & F.col("_known_hash").isNotNull()
        same_known = F.col("content_hash") == F.col("_known_hash")
        records = mark(records, seen & same_known, FILTER, reasons.ALREADY_INGESTED, F.lit(None))
        other_detail = F.concat(F.lit("id already in bronze batch "), F.col("_kb"), F.lit(" with other content"))
        records = mark(records, seen & ~same_known, QUARANTINE, reasons.DUPLICATE_ID_CONFLICT, other_detail)
    if conflict_payloads:
        conflict = F.col("reason") == reasons.DUPLICATE_ID_CONFLICT
        records = records.withColumn("payload", F.when(conflict, record_json()).otherwise(F.col("payload")))
    return records.drop(*[c for c in records.columns if c.startswith("_")])


def with_ids(records: DataFrame, ranks: DataFrame | None, batch: str, run_id: str) -> DataFrame:
    """``records`` with ``id``, ``ingest_batch`` and ``run_id``, and repeats inside the batch
    settled: a record that repeats an earlier one of its id group (by ``ranks``, see
    :func:`repeat_ranks`) is filtered as ``duplicate_record`` with the same content, and
    quarantined as ``duplicate_id_conflict`` with other content (``payload`` left as it is)."""
    good = F.col("outcome") == OK
    keyed = good & F.col("raw_id").isNotNull()
    column_id = F.concat(F.col("source"), F.lit(":"), F.trim(F.col("raw_id")))
    if ranks is not None:
        records = records.join(ranks, on=["source", "path", "line"], how="left")
    else:
        records = records.withColumns({"_rank": F.lit(None).cast("int"), "_kept_hash": F.lit(None).cast("string")})
    rank = F.coalesce(F.col("_rank"), F.lit(1))
    records = records.withColumns(
        {
            "_kept_hash": F.coalesce(F.col("_kept_hash"), F.col("content_hash")),
            "id": F.when(keyed, column_id).when(good, hashed_id(rank)).otherwise(F.lit(None).cast("string")),
            "ingest_batch": F.lit(batch),
            "run_id": F.lit(run_id),
        }
    )
    repeat = keyed & (rank > 1)
    same = F.col("content_hash") == F.col("_kept_hash")
    records = mark(records, repeat & same, FILTER, reasons.DUPLICATE_RECORD, F.lit(None))
    conflict_detail = F.lit("id used by an earlier record of this batch with other content")
    records = mark(records, repeat & ~same, QUARANTINE, reasons.DUPLICATE_ID_CONFLICT, conflict_detail)
    return records.drop("_rank", "_kept_hash")


def with_payload(classified: DataFrame, payload_max_chars: int, payload_mask: PiiOptions | None) -> DataFrame:
    """``classified`` with ``payload`` on quarantined rows only, PII-masked with
    ``payload_mask`` when given (before it is cut to ``payload_max_chars``, so no half of a
    number survives the cut)."""
    quarantined = F.col("outcome") == QUARANTINE
    payload = F.col("payload")
    if payload_mask is not None:
        payload = mask_pii(F.when(quarantined, payload), payload_mask)
    return classified.withColumn("payload", F.when(quarantined, F.substring(payload, 1, payload_max_chars)))


def _id_group() -> Column:
    """The id group of a good record: the records that claim one column id, or the identical
    records (same ``content_hash``) of a source when there is no id column."""
    return F.when(
        F.col("raw_id").isNotNull(), F.concat(F.lit("id\u241f"), F.col("source"), F.lit(":"), F.trim("raw_id"))
    ).otherwise(F.concat_ws("\u241f", F.lit("content"), F.col("source"), F.col("content_hash")))


def shared_groups(records: DataFrame) -> DataFrame:
    """``(_key)``: the 64-bit hashes of the id groups (:func:`_id_group`) that hold two or
    more good records, computed now and kept. Only the hashes cross the shuffle, and only
    the groups that may hold repeats are kept: few, as a rule, so a batch without repeats
    reads its records' keys once here."""
    good = records.where(F.col("outcome") == OK)
    sizes = good.groupBy(F.xxhash64(_id_group()).alias("_key")).agg(F.count(F.lit(1)).alias("_n"))
    return checkpointed(sizes.where(F.col("_n") > 1).select("_key"))


def repeat_ranks(records: DataFrame, shared: DataFrame) -> DataFrame | None:
    """``(source, path, line, _rank, _kept_hash)`` of the good records that share their id
    group with another record, or ``None`` when no group holds two records (``shared``, from
    :func:`shared_groups`). ``_rank`` is the record's place in its group by file and line,
    ``_kept_hash`` the first one's content hash. A record absent here is alone in its group:
    rank 1, its own hash.

    Cost: only the records in groups of two or more are sorted, on narrow keys, and the
    result is computed now and kept, so that it is broadcast when small (a hash collision
    only adds candidates: the ranks are taken over the exact group, and a lone record's rank
    1 and own hash are what absence means anyway)."""
    groups = shared.count()
    if groups == 0:
        return None
    good = records.where(F.col("outcome") == OK)
    keys = good.select("source", "path", "line", "content_hash", _id_group().alias("_group"))
    keys = keys.withColumn("_key", F.xxhash64("_group"))
    window = Window.partitionBy("_group").orderBy("path", "line")
    ranked = (
        keys.join(small_or_shuffled(shared, groups), on="_key")
        .withColumn("_rank", F.row_number().over(window))
        .withColumn("_kept_hash", F.first("content_hash").over(window))
        .select("source", "path", "line", "_rank", "_kept_hash")
    )
    return small_or_shuffled(checkpointed(ranked))


def known_ids(records: DataFrame, existing: DataFrame) -> DataFrame:
    """``(id, _known_hash, _kb)`` of this batch's good ids (``records`` from :func:`with_ids`)
    that bronze already holds in another batch, with that row's content hash and batch: a
    join of narrow columns, kept small and broadcast back (ids re-ingested are few next to a
    batch)."""
    ids = records.where(F.col("outcome") == OK).select("id").distinct()
    known = existing.select("id", F.col("content_hash").alias("_known_hash"), F.col("ingest_batch").alias("_kb"))
    return small_or_shuffled(checkpointed(known.join(ids, on="id")))


def small_or_shuffled(frame: DataFrame, rows: int | None = None) -> DataFrame:
    """``frame`` (checkpointed) marked for broadcast when it has at most
    :data:`BROADCAST_MAX_ROWS` rows (``rows``, when already counted), so joining it to the
    records moves no record; a larger one is joined the usual way (both sides shuffled)."""
    rows = frame.count() if rows is None else rows
    return F.broadcast(frame) if rows <= BROADCAST_MAX_ROWS else frame


def hashed_id(occurrence: Column) -> Column:
    """``sha256(source ␟ content_hash ␟ occurrence)[:32]``: ``occurrence`` is the record's
    rank among the identical records of its source (by file and line), so the id is unique
    within the batch and the same whenever the same files are ingested."""
    key = F.concat_ws("\u241f", F.col("source"), F.col("content_hash"), occurrence.cast("string"))
    return F.substring(F.sha2(key, 256), 1, _ID_HEX_CHARS)


def mark(records: DataFrame, condition: Column, outcome: str, reason: str, detail: Column) -> DataFrame:
    """Set ``outcome``/``reason``/``detail`` on the good rows matching ``condition``."""
    hit = (F.col("outcome") == OK) & condition
    # one projection, each column computed from the row as it was: a chain of withColumn
    # calls would make Spark analyse the growing plan once per call
    return records.withColumns(
        {
            "reason": F.when(hit, F.lit(reason)).otherwise(F.col("reason")),
            "detail": F.when(hit, detail).otherwise(F.col("detail")),
            "outcome": F.when(hit, F.lit(outcome)).otherwise(F.col("outcome")),
        }
    )


def record_json() -> Column:
    """The parsed record as JSON (``id``, ``text``, ``label``, ``event_ts``, ``meta``): the
    payload of a record refused after the read."""
    return F.to_json(
        F.struct(F.col("raw_id").alias("id"), "text", "label", F.col("raw_event_ts").alias("event_ts"), "meta")
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
