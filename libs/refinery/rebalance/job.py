"""The ``rebalance`` job: filtered ``silver`` rows, resampled to exact class targets → ``gold``.

read (one pinned ``silver`` version) → filter (:func:`filter_reasons`: unlabelled, language,
duplicates, label conflicts, rule violations, low quality (a ``drop`` quality rule of
``clean.quality``), label noise; each removal counted by reason) →
count (eligible rows per class, a few rows to the driver) → plan (exact targets per class,
:func:`refinery.labels.resampling.class_targets`) → draw (:func:`draw_rows`: a seeded hash
order per class, the first ``t`` rows kept or every row repeated) → write (``gold``
overwritten in one Delta commit with the run's parameters as commit metadata; one ``metrics``
row with the class distribution before and after).

**Exact and deterministic.** Each row's place in its class is ``xxhash64(seed, id)`` (then
``id``): a function of the row alone, so the same seed keeps the same rows however silver is
partitioned, and gold's class counts equal the targets exactly. Under-sampling keeps the first
``t_c`` rows of a class in that order; over-sampling repeats every row ``⌊t_c / n_c⌋`` times and
the first ``t_c mod n_c`` once more (``copy_index`` 0, 1, …). The per-class first-``k`` is the
bucketed exact top-k of :mod:`refinery.spark.top_k`; nothing is collected but counts.

**Groups.** Sources carry their own label sets, so by default (``rebalance.group_by: source``)
each source is balanced on its own and ``sample_weight`` has mean 1 within each source's gold
rows; ``group_by: null`` balances all labels together. ``stratify_by_lang`` balances
``(label, lang)`` cells instead.

Counts (the stage reconciles): rows in = the pinned version's rows, counted on their own;
out = distinct silver rows in gold: the rows the gold commit wrote
(its ``numOutputRows``) less the over-sampled copies the plan added, so a lost row or a lost
copy fails the run; filtered by reason (:data:`FILTER_ORDER`, then ``undersampled`` or
``class_excluded`` for rows a class's target left out). Over-sampled copies are counted in the
details (``gold_rows``, ``copies_added``), not as rows out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from refinery.labels.resampling import ResamplePlan, class_targets, class_weights, copies_per_row, largest_remainder
from refinery.rebalance.details import RebalanceDetails
from refinery.rebalance.settings import RebalanceFilterSettings, RebalanceSettings
from refinery.runtime.context import JobContext, JobResult, check_group_by, pinned_silver
from refinery.runtime.faults import drop_one_row
from refinery.runtime.stage import stage
from refinery.spark.schemas import GOLD_FROM_SILVER
from refinery.spark.tables import overwrite_table
from refinery.spark.top_k import IN_FIRST_K, mark_first_k
from refinery.text.quality import drop_rule_names

STAGE = "rebalance"
UNLABELLED, LANGUAGE, DUPLICATE = "unlabelled", "language", "duplicate"
LABEL_CONFLICT, RULE_VIOLATION, NOISY, LOW_CONFIDENCE = "label_conflict", "rule_violation", "noisy", "low_confidence"
#: A row whose ``quality_flags`` hold a ``drop`` rule is counted as ``low_quality:<rule>``, the
#: first such rule in the row's flags (rule order), so the metrics say which rule removed it.
LOW_QUALITY = "low_quality"
UNDERSAMPLED, CLASS_EXCLUDED = "undersampled", "class_excluded"
#: A row filtered by several filters is counted under the first that applies, in this order.
FILTER_ORDER = (UNLABELLED, LANGUAGE, DUPLICATE, LABEL_CONFLICT, RULE_VIOLATION, LOW_QUALITY, NOISY, LOW_CONFIDENCE)
#: Silver columns copied to gold when silver has them (:data:`refinery.spark.schemas.GOLD_FROM_SILVER`;
#: confidence only after ``score``): gold's columns are :data:`refinery.spark.schemas.GOLD`.
GOLD_COLUMNS = GOLD_FROM_SILVER
#: Bits of ``xxhash64`` kept as the top-k bucket: 4096 buckets per class.
BUCKET_SHIFT = 52
GROUP, LANG_CELL = "_rb_group", "_rb_lang"


@dataclass(frozen=True)
class CellTarget:
    """One class cell: its group, label, language (``None`` unless stratified), eligible rows
    ``n`` and gold rows ``t``."""

    group: str
    label: str
    lang: str | None
    n: int
    t: int


def run(ctx: JobContext) -> JobResult:
    """Rebalance the latest silver version into gold."""
    settings, spark, cfg = ctx.settings, ctx.spark, ctx.settings.rebalance
    with stage(ctx, STAGE) as s:
        snapshot = pinned_silver(ctx)
        silver = snapshot.frame
        check_group_by(silver.columns, "rebalance.group_by", cfg.group_by)
        ctx.log.info("rebalance started", extra={"version": snapshot.version, "strategy": cfg.strategy})

        # The pinned version is immutable, so it is re-read (three scans: counts, the draw's bucket
        # counts, the draw) rather than cached: a cache of all of silver would not scale.
        drops = sorted(drop_rule_names(settings.clean.quality.active_rules()))
        reasons, skipped = filter_reasons(silver, cfg.filters, drops)
        rows = with_cells(silver.withColumn("_rb_reason", reasons), cfg)
        filtered, counts = reason_and_cell_counts(rows)
        targets = plan_targets(counts, cfg)
        weights = group_weights(targets, cfg)
        eligible = rows.where(F.col("_rb_reason").isNull())
        gold = drop_one_row(gold_rows(eligible, targets, weights, cfg, spark, ctx.run_id, snapshot.version), STAGE)
        metadata = commit_metadata(cfg, ctx.run_id, snapshot.version)
        commit = overwrite_table(gold, settings.tables.gold, metadata=metadata)

        s.count_input(silver)  # the input, counted on its own, apart from the filter counts
        copies = sum(max(c.t - c.n, 0) for c in targets)
        s.out(commit.rows_written - copies)
        s.outcomes(("filter", reason, n) for reason, n in filtered.items() if reason is not None)
        s.outcomes(("filter", CLASS_EXCLUDED if c.t == 0 else UNDERSAMPLED, c.n - c.t) for c in targets if c.t < c.n)
    s.details = details = distribution_details(targets, weights, snapshot.version, skipped)
    ctx.log.info("rebalance finished", extra={"gold_rows": str(details.gold_rows)})
    return JobResult(batch=None, stages=s.stages)


def filter_reasons(
    silver: DataFrame, filters: RebalanceFilterSettings, quality_drops: Sequence[str] = ()
) -> tuple[Column, list[str]]:
    """The first :data:`FILTER_ORDER` reason that removes each row (null: eligible), and the
    filters skipped because silver lacks their column (the job that writes it has not run).

    Language: ``allowed`` uses clean's ``lang_allowed`` flag; a list keeps those codes only.
    Quality: ``quality_drops`` are the names of the ``drop`` quality rules; a row whose
    ``quality_flags`` hold one is :data:`LOW_QUALITY` (``low_quality:<rule>``). Rows clean never
    checked (null ``quality_flags``) are kept.
    Noise: rows the scorer never scored (null ``is_noisy`` / ``confidence``) are kept: no
    evidence against them."""
    present = set(silver.columns)
    skipped: list[str] = []
    checks: list[tuple[str | Column, Column]] = [(UNLABELLED, F.col("label").isNull() | (F.trim("label") == ""))]

    def need(column: str, name: str) -> bool:
        if column in present:
            return True
        skipped.append(f"{name} (no silver column {column})")
        return False

    if filters.languages == "allowed" and need("lang_allowed", LANGUAGE):
        checks.append((LANGUAGE, ~F.coalesce(F.col("lang_allowed"), F.lit(False))))
    elif isinstance(filters.languages, list) and need("lang", LANGUAGE):
        checks.append((LANGUAGE, ~F.coalesce(F.col("lang").isin(*filters.languages), F.lit(False))))
    if filters.duplicates and need("dup_of", DUPLICATE):
        checks.append((DUPLICATE, F.col("dup_of").isNotNull()))
    if filters.label_conflict and need("label_conflict", LABEL_CONFLICT):
        checks.append((LABEL_CONFLICT, F.coalesce(F.col("label_conflict"), F.lit(False))))
    if filters.rule_violations and need("rule_violations", RULE_VIOLATION):
        checks.append((RULE_VIOLATION, F.coalesce(F.size("rule_violations") > 0, F.lit(False))))
    if filters.quality and quality_drops and need("quality_flags", LOW_QUALITY):
        dropping = F.filter("quality_flags", lambda name: name.isin(*quality_drops))
        first = F.concat(F.lit(f"{LOW_QUALITY}:"), F.try_element_at(dropping, F.lit(1)))
        checks.append((first, F.coalesce(F.size(dropping) > 0, F.lit(False))))
    if filters.noise == "is_noisy" and need("is_noisy", NOISY):
        checks.append((NOISY, F.coalesce(F.col("is_noisy"), F.lit(False))))
    elif filters.noise == "confidence" and need("confidence", LOW_CONFIDENCE):
        checks.append((LOW_CONFIDENCE, F.coalesce(F.col("confidence") < filters.min_confidence, F.lit(False))))
    reason = F.lit(None).cast("string")
    for name, condition in reversed(checks):
        reason = F.when(condition, F.lit(name) if isinstance(name, str) else name).otherwise(reason)
    return reason, skipped


def with_cells(frame: DataFrame, cfg: RebalanceSettings) -> DataFrame:
    """``frame`` with its class cell: :data:`GROUP` (the ``group_by`` value as a string, ``""``
    without grouping) and :data:`LANG_CELL` (``lang`` when stratified, else ``""``)."""
    group = F.coalesce(F.col(cfg.group_by).cast("string"), F.lit("")) if cfg.group_by else F.lit("")
    lang = F.coalesce(F.col("lang"), F.lit("und")) if cfg.stratify_by_lang else F.lit("")
    return frame.withColumn(GROUP, group).withColumn(LANG_CELL, lang)


def reason_and_cell_counts(rows: DataFrame) -> tuple[Counter, dict[tuple[str, str, str], int]]:
    """One aggregation over ``rows`` (with ``_rb_reason`` and the cell columns): rows per
    filter reason (key ``None``: eligible) and eligible rows per ``(group, label, lang cell)``.
    A few rows per class and reason reach the driver."""
    found = rows.groupBy("_rb_reason", GROUP, "label", LANG_CELL).agg(F.count(F.lit(1)).alias("n")).collect()
    reasons: Counter = Counter()
    cells: dict[tuple[str, str, str], int] = {}
    for r in found:
        reasons[r["_rb_reason"]] += int(r["n"])
        if r["_rb_reason"] is None:
            cells[(r[GROUP], r["label"], r[LANG_CELL])] = int(r["n"])
    return reasons, cells


def cell_counts(eligible: DataFrame) -> dict[tuple[str, str, str], int]:
    """Rows per ``(group, label, lang cell)`` of a frame that is all eligible."""
    return reason_and_cell_counts(eligible.withColumn("_rb_reason", F.lit(None).cast("string")))[1]


def plan_targets(counts: Mapping[tuple[str, str, str], int], cfg: RebalanceSettings) -> list[CellTarget]:
    """Exact gold rows per cell, group by group, under each group's plan.

    Stratified by language, the plan's classes are ``(label, lang)`` cells, except for the
    ``target`` strategy, whose counts and shares name labels: a label's target is split over
    its languages in proportion to their rows (largest remainder)."""
    result: list[CellTarget] = []
    for group in sorted({g for g, _, _ in counts}):
        plan = cfg.plan_for(group if cfg.group_by else None)
        cells = {(label, lang): n for (g, label, lang), n in counts.items() if g == group}
        if not cfg.stratify_by_lang:
            targets = class_targets({label: n for (label, _), n in cells.items()}, plan)
            result += [CellTarget(group, label, None, n, targets[label]) for (label, _), n in cells.items()]
            continue
        if plan.strategy == "target":
            by_label: Counter[str] = Counter()
            for (label, _), n in cells.items():
                by_label[label] += n
            label_targets = class_targets(dict(by_label), plan)
            for label, t in label_targets.items():
                split = largest_remainder({c: n for c, n in cells.items() if c[0] == label}, t)
                result += [CellTarget(group, cell[0], cell[1], cells[cell], t_cell) for cell, t_cell in split.items()]
        else:
            targets = class_targets(cells, _per_cell(plan, cells))
            result += [CellTarget(group, label, lang, n, targets[(label, lang)]) for (label, lang), n in cells.items()]
    return sorted(result, key=lambda c: (c.group, c.label, c.lang or ""))


def _per_cell(plan: ResamplePlan, cells: Mapping[tuple[str, str], int]) -> ResamplePlan:
    """``plan`` with per-label caps keyed by ``(label, lang)`` cell."""

    def keyed(caps):
        if not isinstance(caps, Mapping):
            return caps
        return {cell: caps[cell[0]] for cell in cells if cell[0] in caps}

    return replace(plan, min=keyed(plan.min), max=keyed(plan.max))


def group_weights(targets: list[CellTarget], cfg: RebalanceSettings) -> dict[tuple[str, str], float]:
    """``sample_weight`` per ``(group, label)`` from the gold counts of each group's labels,
    mean 1 over the group's gold rows (:func:`refinery.labels.resampling.class_weights`)."""
    gold: dict[str, Counter[Hashable]] = {}
    for c in targets:
        gold.setdefault(c.group, Counter())[c.label] += c.t
    weights: dict[tuple[str, str], float] = {}
    for group, counts in gold.items():
        for label, w in class_weights(counts, cfg.weights, cfg.beta).items():
            weights[(group, str(label))] = w
    return weights


_TARGETS = T.StructType(
    [
        T.StructField(GROUP, T.StringType(), False),
        T.StructField("label", T.StringType(), False),
        T.StructField(LANG_CELL, T.StringType(), False),
        T.StructField("_rb_k", T.LongType(), False),
        T.StructField("_rb_q", T.LongType(), False),
        T.StructField("sample_weight", T.DoubleType(), False),
    ]
)


def draw_rows(eligible: DataFrame, targets: list[CellTarget], weights, seed: int, spark: SparkSession) -> DataFrame:
    """The gold rows: each eligible row as many times as its cell's target asks, with
    ``copy_index`` (0 for the first copy) and its class's ``sample_weight``.

    A cell with ``n`` rows and target ``t`` has ``(q, r) = divmod(t, n)``: the first ``r`` rows
    in ``xxhash64(seed, id)`` order appear ``q + 1`` times, the others ``q`` times (for
    ``t ≤ n``: ``q = 0``, so exactly the first ``t`` rows, once)."""
    table = []
    for c in targets:
        q, r = copies_per_row(c.n, c.t)
        table.append((c.group, c.label, c.lang or "", r, q, float(weights.get((c.group, c.label), 0.0))))
    plan = spark.createDataFrame(table, _TARGETS)
    key = F.xxhash64(F.lit(seed), F.col("id"))
    keyed = (
        eligible.join(F.broadcast(plan), [GROUP, "label", LANG_CELL])
        .withColumn("_rb_key", key)
        .withColumn("_rb_bucket", F.shiftright("_rb_key", BUCKET_SHIFT))
    )
    marked = mark_first_k(
        keyed, [GROUP, "label", LANG_CELL], key="_rb_key", tiebreak="id", quota="_rb_k", bucket="_rb_bucket"
    )
    copies = F.col("_rb_q") + F.col(IN_FIRST_K).cast("long")
    return (
        marked.withColumn("_rb_copies", copies)
        .where(F.col("_rb_copies") > 0)
        .withColumn("copy_index", F.explode(F.sequence(F.lit(0), F.col("_rb_copies").cast("int") - 1)))
    )


def gold_rows(
    eligible: DataFrame,
    targets: list[CellTarget],
    weights,
    cfg: RebalanceSettings,
    spark: SparkSession,
    run_id: str,
    version: int,
) -> DataFrame:
    """:func:`draw_rows` in gold's columns: :data:`GOLD_COLUMNS` (those silver has),
    ``confidence`` (null before ``score``), ``copy_index``, ``sample_weight``,
    ``rebalance_run`` and ``silver_version``."""
    drawn = draw_rows(eligible, targets, weights, cfg.seed, spark)
    present = set(eligible.columns)
    columns = [F.col(c) for c in GOLD_COLUMNS if c in present]
    confidence = F.col("confidence") if "confidence" in present else F.lit(None).cast("double")
    return drawn.select(
        *columns,
        confidence.alias("confidence"),
        F.col("copy_index").cast("int").alias("copy_index"),
        "sample_weight",
        F.lit(run_id).alias("rebalance_run"),
        F.lit(version).cast("long").alias("silver_version"),
    )


def commit_metadata(cfg: RebalanceSettings, run_id: str, version: int) -> dict[str, object]:
    """The run's parameters, stored as the gold commit's ``userMetadata`` (JSON)."""
    return {
        "job": STAGE,
        "run_id": run_id,
        "silver_version": version,
        "config": cfg.model_dump(mode="json"),
    }


def distribution_details(
    targets: list[CellTarget], weights: Mapping[tuple[str, str], float], version: int, skipped: list[str]
) -> RebalanceDetails:
    """Metrics details (:class:`~refinery.rebalance.details.RebalanceDetails`): the class
    distribution before (eligible) and after (gold, copies included) per cell
    ``[<group>/]<label>[/<lang>]``, the weights, totals, and the filters skipped."""
    details = RebalanceDetails(silver_version=version, filters_skipped=list(skipped))
    for c in targets:
        cell = "/".join(part for part in (c.group, c.label, c.lang) if part)
        details.before[cell] = c.n
        details.after[cell] = c.t
    for (group, label), w in sorted(weights.items()):
        details.weights["/".join(p for p in (group, label) if p)] = w
    details.gold_rows = sum(c.t for c in targets)
    details.copies_added = sum(max(c.t - c.n, 0) for c in targets)
    return details
