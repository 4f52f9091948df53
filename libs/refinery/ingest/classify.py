"""The ``ingest`` transform: each record's id and outcome (:func:`classify_records`), settled from
the batch's repeated id groups (:func:`shared_groups`, :func:`repeat_ranks`) and the ids bronze
already holds (:func:`known_ids`)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from refinery.clean.udf import mask_pii
from refinery.sources import reasons
from refinery.sources.records import FILTER, OK, QUARANTINE
from refinery.spark.checkpoint import checkpointed
from refinery.text.pii import PiiOptions

_ID_HEX_CHARS = 32  # 128 bits: collisions stay negligible far beyond 10^12 rows
#: Rows of a key table (repeated ids, ids already in bronze) broadcast to the records' join:
#: about 200 bytes a row, so at most about 40 MB held by each executor.
BROADCAST_MAX_ROWS = 200_000


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
