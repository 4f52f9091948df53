"""The ``clean`` job: ``bronze`` → ``silver``.

read (bronze, one ``ingest_batch`` or all) → transform (:func:`clean_records`: normalize,
language ID, PII masking, segmentation, quality signals and rules (``clean.quality``), then the
annotation rules of ``clean.rules``, one pandas batch at a time) → write (MERGE into ``silver``
on ``id``; refused rows, including those that break a ``block`` rule, to ``quarantine``; one
``metrics`` row with per-rule and per-quality-rule counts).

Counts: ``rows_in`` = the bronze rows read (counted before cleaning); ``rows_out`` = the rows
the silver MERGE committed (inserted + updated, from its ``operationMetrics``); quarantined by
reason = the batch's ``clean`` quarantine slice read back at the version its write committed.

``silver`` holds the normalized, PII-masked text only: the original stays in ``bronze``.
Reruns are idempotent: the MERGE updates the batch's rows, deletes those of the batch that
are no longer accepted, and the batch's ``clean`` quarantine rows are replaced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from refinery.clean.annotation_rules import BLOCK, RuleSet
from refinery.clean.details import CleanDetails, RuleTally
from refinery.clean.settings import CleanSettings, pii_options
from refinery.clean.udf import TIMED_STEPS, clean_records
from refinery.config import ConfigError, Settings
from refinery.config.base import TableFeatures
from refinery.runtime.context import JobContext, JobResult
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.spark.committed import committed_rows, grouped_counts
from refinery.spark.quarantine import quarantine_frame
from refinery.spark.schemas import SILVER_CLEAN
from refinery.spark.tables import (
    add_missing_columns,
    merge_rows,
    read_table,
    replace_slice,
    sql_string,
    table_exists,
)
from refinery.text.chain import LANGUAGE_NOT_ALLOWED, LANGUAGE_UNDETERMINED, OK, QUARANTINE, CleanOptions
from refinery.text.normalize import STEPS
from refinery.text.pii import COUNTED_TYPES
from refinery.text.quality import QualityRule, drop_rule_names

STAGE = "clean"
ALL_BATCHES = "*"
#: Delta keeps min/max/null-count statistics (for data skipping) on these silver columns only.
#: The default, the first 32 columns, includes ``text`` and ``tokens``: their statistics cost
#: about a fifth of the silver write and no query filters on a text prefix. (Delta refuses
#: statistics on boolean columns: ``mixed`` and ``lang_allowed`` cannot be listed.)
SILVER_STATS_COLUMNS = (
    "id",
    "label",
    "source",
    "event_ts",
    "ingest_batch",
    "content_hash",
    "lang",
    "lang_score",
    "n_tokens",
    "clean_run_id",
)

#: Silver columns added after the table's first version (:data:`refinery.spark.schemas.SILVER_CLEAN`'s
#: ``later``): a silver written before them gets them (null: "not checked") before the MERGE,
#: which cannot add columns by itself.
SILVER_LATER_COLUMNS = SILVER_CLEAN.later_columns()
#: Column types Delta keeps min/max statistics on, so it can cluster by them.
CLUSTERABLE_TYPES = frozenset({"string", "bigint", "int", "double", "float", "date", "timestamp"})


def silver_properties(features: TableFeatures) -> dict[str, str]:
    """Silver's Delta table properties: statistics on :data:`SILVER_STATS_COLUMNS` and the
    clustering columns (Delta clusters only by columns it keeps statistics on), and the
    features of ``delta.silver``."""
    stats = dict.fromkeys([*SILVER_STATS_COLUMNS, *features.cluster_by])
    return {"delta.dataSkippingStatsColumns": ",".join(stats), **features.properties()}


def preflight(settings: Settings) -> None:
    """Checked by the runner before Spark starts: silver can be clustered only by columns the
    clean job writes and Delta keeps statistics on (no booleans, lists, maps or structs)."""
    kinds = SILVER_CLEAN.sql_types()
    unfit = [c for c in settings.delta.silver.cluster_by if kinds.get(c) not in CLUSTERABLE_TYPES]
    if unfit:
        fit = sorted(c for c, kind in kinds.items() if kind in CLUSTERABLE_TYPES)
        raise ConfigError(
            f"delta.silver.cluster_by: {unfit} cannot cluster silver; fix: use columns of {fit}, e.g. [source]"
        )


def run(ctx: JobContext) -> JobResult:
    """Clean ``clean.batch`` (or all of bronze) into silver."""
    settings, spark = ctx.settings, ctx.spark
    cfg = settings.clean
    with stage(ctx, STAGE) as s:
        if not table_exists(spark, settings.tables.bronze):
            raise ConfigError(
                f"config key 'tables.bronze': no Delta table at {settings.tables.bronze}; fix: run ingest first"
            )
        bronze = read_table(spark, settings.tables.bronze)
        if cfg.batch is not None:
            bronze = bronze.where(F.col("ingest_batch") == cfg.batch)
        batch = cfg.batch or ALL_BATCHES
        rules = cfg.rules.active if cfg.rules is not None else ()
        ctx.log.info("clean started", extra={"batch": batch, "rules": len(rules)})

        s.count_input(bronze)  # the input slice, counted before the transform
        cleaned = s.hold(drop_one_row(clean_records(bronze, clean_options(cfg), cfg.rules), STAGE))
        scope = None if cfg.batch is None else f"t.ingest_batch = {sql_string(cfg.batch)}"
        if table_exists(spark, settings.tables.silver):
            add_missing_columns(spark, settings.tables.silver, SILVER_LATER_COLUMNS)
        merged = merge_rows(
            spark,
            silver_rows(cleaned, ctx.run_id),
            settings.tables.silver,
            scope=scope or "true",
            properties=silver_properties(settings.delta.silver),
            cluster_by=settings.delta.silver.cluster_by,
        )
        predicate = f"stage = {sql_string(STAGE)}"
        if cfg.batch is not None:
            predicate += f" AND batch = {sql_string(cfg.batch)}"
        refused = replace_slice(quarantine_rows(cleaned, ctx.run_id), settings.tables.quarantine, predicate, ["stage"])
        outcomes, s.details = summarize(cleaned, cfg.rules, cfg.quality.active_rules())
        s.release()
        # out and quarantined from what was committed; filtered (never written) as computed
        s.out(merged.rows_written)
        quarantined = grouped_counts(committed_rows(spark, refused), predicate, ["reason"])
        s.outcomes((QUARANTINE, reason, n) for (reason,), n in quarantined.items())
        s.outcomes((o, r, n) for o, r, n in outcomes if o not in (OK, QUARANTINE))
    return JobResult(batch=batch, stages=s.stages)


def clean_options(cfg: CleanSettings) -> CleanOptions:
    """The pure chain's options from the validated config."""
    return CleanOptions(
        normalize=cfg.normalize.options(),
        langid=cfg.langid.options(),
        pii=pii_options(cfg.pii),
        mask_meta=cfg.pii.meta,
        segment=cfg.segment.options(),
        segment_enabled=cfg.segment.enabled,
        allowed_languages=tuple(cfg.allowed_languages) if cfg.allowed_languages is not None else None,
        on_disallowed_language=cfg.on_disallowed_language,
        quality_enabled=cfg.quality.enabled,
        quality_rules=cfg.quality.active_rules(),
    )


def silver_rows(cleaned: DataFrame, run_id: str) -> DataFrame:
    """The accepted rows in silver's columns: :data:`refinery.spark.schemas.SILVER_CLEAN`, in its
    order; the columns not taken as they are from ``cleaned`` are derived here."""
    derived = {
        "text": F.col("clean_text"),
        "lang_allowed": ~F.coalesce(F.col("reason"), F.lit("")).isin(LANGUAGE_NOT_ALLOWED, LANGUAGE_UNDETERMINED),
        "clean_run_id": F.lit(run_id),
        "cleaned_at": F.current_timestamp(),
    }
    columns = [derived[name].alias(name) if name in derived else F.col(name) for name in SILVER_CLEAN.names]
    return cleaned.where(F.col("outcome") == OK).select(*columns)


def quarantine_rows(cleaned: DataFrame, run_id: str) -> DataFrame:
    """The refused rows in quarantine's columns. The payload is the *cleaned* (PII-masked)
    text when there is one: quarantine must not become a second copy of the raw PII."""
    payload = F.coalesce(F.col("clean_text"), F.lit(""))
    refused = cleaned.where(F.col("outcome") == QUARANTINE)
    # the record's place in its file stays in bronze: quarantine names the record by id
    where = {"source_path": None, "source_line": None, "record_id": F.col("id")}
    return quarantine_frame(refused, run_id=run_id, stage=STAGE, batch=F.col("ingest_batch"), payload=payload, **where)


def summarize(
    cleaned: DataFrame, rules: RuleSet | None = None, quality_rules: Sequence[QualityRule] = ()
) -> tuple[list[tuple[str, str | None, int]], CleanDetails]:
    """The run's counts in one aggregation over the cleaned rows: ``(outcome, reason, rows)``
    triples for :meth:`StageMetrics.from_outcomes`, and the metrics details: of the accepted
    rows, documents per language (``lang.zh``), PII found per type (``pii.EMAIL``) and
    documents changed per normalization step (``normalize.nfkc``); per active rule, the rows
    that violate it (``rule.<name>.blocked`` for a ``block`` rule: all quarantined;
    ``rule.<name>.flagged`` for a ``flag`` rule: counted whether or not a block rule also
    quarantined the row), and ``rules.flagged_rows``, the accepted rows carrying at least one
    flag; per quality rule, the accepted rows whose ``quality_flags`` hold it
    (``quality.<name>.flagged``, or ``.dropped`` for a ``drop`` rule: rebalance keeps those out
    of gold), ``quality.flagged_rows`` (at least one quality flag) and ``quality.dropped_rows``
    (at least one ``drop`` rule). Every active rule gets its count, zero included; and the
    Python workers' CPU time per step and document (:func:`cpu_times`). Counts and times
    only, never text; the keys are spelled by :class:`~refinery.clean.details.CleanDetails`.

    PII types, normalization steps and rules are fixed, known sets, so each is one ``sum``
    column of a single ``groupBy(outcome, reason, lang)``: one pass over the cached rows
    instead of one per distribution."""
    active = rules.active if rules is not None else ()
    violations = F.coalesce(F.col("rule_violations"), F.array().cast("array<string>"))
    sums = [F.sum(F.coalesce(F.col("pii_counts")[name], F.lit(0))).alias(f"pii.{name}") for name in COUNTED_TYPES]
    sums += [F.sum(F.array_contains("norm_steps", name).cast("long")).alias(f"normalize.{name}") for name in STEPS]
    if active:
        sums += [F.sum(F.array_contains(violations, r.name).cast("long")).alias(f"rule.{r.name}") for r in active]
        sums.append(F.sum((F.size(violations) > 0).cast("long")).alias("rules.flagged_rows"))
    flags = F.coalesce(F.col("quality_flags"), F.array().cast("array<string>"))
    drops = sorted(drop_rule_names(quality_rules))
    sums += [F.sum(F.array_contains(flags, r.name).cast("long")).alias(f"q.{r.name}") for r in quality_rules]
    if quality_rules:
        sums.append(F.sum((F.size(flags) > 0).cast("long")).alias("q.flagged_rows"))
        dropped = F.exists(flags, lambda name: name.isin(*drops)) if drops else F.lit(False)
        sums.append(F.sum(dropped.cast("long")).alias("q.dropped_rows"))
    sums += [F.sum(f"cpu_seconds.{step}").alias(f"t.{step}") for step in TIMED_STEPS]
    groups = cleaned.groupBy("outcome", "reason", "lang").agg(F.count(F.lit(1)).alias("rows"), *sums).collect()
    outcomes: Counter[tuple[str, str | None]] = Counter()
    details = CleanDetails(
        # An active rule that caught nothing still reports its zero.
        rules={r.name: RuleTally("blocked" if r.severity == BLOCK else "flagged", 0) for r in active},
        quality={r.name: RuleTally("drop" if r.severity == "drop" else "flag", 0) for r in quality_rules},
    )
    languages: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    found: dict[str, Counter[str]] = {"pii": Counter(), "normalize": Counter()}
    for group in groups:
        outcomes[(group.outcome, group.reason)] += group.rows
        for rule in active:
            tally = details.rules[rule.name]
            details.rules[rule.name] = RuleTally(tally.kind, tally.rows + (group[f"rule.{rule.name}"] or 0))
        if group.outcome != OK:
            continue
        languages[f"{group.lang}"] += group.rows
        if active:
            totals["rules"] += group["rules.flagged_rows"] or 0
        for quality_rule in quality_rules:
            tally = details.quality[quality_rule.name]
            details.quality[quality_rule.name] = RuleTally(
                tally.kind, tally.rows + (group[f"q.{quality_rule.name}"] or 0)
            )
        if quality_rules:
            totals["quality"] += group["q.flagged_rows"] or 0
            totals["dropped"] += group["q.dropped_rows"] or 0
        for name in group.asDict():
            kind, _, key = name.partition(".")
            if kind in found and group[name]:
                found[kind][key] += group[name]
    details.languages, details.pii, details.normalize = dict(languages), dict(found["pii"]), dict(found["normalize"])
    if active:
        details.rules_flagged_rows = totals["rules"]
    if quality_rules:
        details.quality_flagged_rows, details.quality_dropped_rows = totals["quality"], totals["dropped"]
    details.cpu_ns_per_doc, details.cpu_total_ms = cpu_times(
        [(g.rows, {step: g[f"t.{step}"] or 0.0 for step in TIMED_STEPS}) for g in groups]
    )
    return [(o, r, n) for (o, r), n in outcomes.items()], details


def cpu_times(groups: Sequence[tuple[int, dict[str, float]]]) -> tuple[dict[str, int], int]:
    """Where the Python workers' time went: CPU nanoseconds per input document of each of
    :data:`TIMED_STEPS` and of ``total``, and CPU milliseconds in all, from ``(rows, CPU
    seconds per step)`` of each group. Whole numbers, as every other detail of the stage."""
    rows = sum(n for n, _ in groups)
    seconds = {step: sum(times[step] for _, times in groups) for step in TIMED_STEPS}
    seconds["total"] = sum(seconds.values())
    ns_per_doc = {step: round(1e9 * s / rows) if rows else 0 for step, s in seconds.items()}
    return ns_per_doc, round(1e3 * seconds["total"])
