"""The run report's plots: matplotlib figures of plain counts, as PNG ``data:`` URIs.

Figures are built with :class:`matplotlib.figure.Figure` on the Agg canvas, never through
``pyplot``: no global state, no display, safe in a driver that is also doing other work.
Each function returns ``None`` when it has nothing to draw; the page then says so.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from refinery.report.data import ConfidenceHistogram, DriftValue, DriftWindow, QualityRuleCount, RuleCount, RunCounts

WIDTH = 9.0  # inches; 900 px at DPI
DPI = 100
OUT = "#2e7d32"
QUARANTINE_COLOURS = ("#c62828", "#ef6c00", "#ad1457", "#f9a825", "#6a1b9a", "#d84315", "#8d6e63")
FILTER_COLOURS = ("#546e7a", "#90a4ae", "#1565c0", "#64b5f6", "#00838f", "#80cbc4", "#b0bec5", "#37474f")
BEFORE, AFTER = "#9e9e9e", "#1565c0"
ALERT = "#c62828"
#: Categories beyond this many in a bar chart are summed into ``other``.
MAX_BARS = 15


def new_figure(height: float) -> Figure:
    """A figure on the Agg canvas."""
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_data_uri(fig: Figure) -> str:
    """``fig`` as a ``data:image/png;base64,…`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _reason_count(counts: str, reason: str) -> Callable[[RunCounts], int]:
    """A run's rows of ``reason`` in its ``counts`` map (``quarantined_by_reason`` or ``filtered_by_reason``)."""
    return lambda run: getattr(run, counts).get(reason, 0)


def _colour(palette: Sequence[str], i: int) -> str:
    return palette[i % len(palette)]


def top_counts(counts: Mapping[str, int], limit: int = MAX_BARS) -> dict[str, int]:
    """The ``limit`` largest counts (ties by name), the rest summed as ``other``."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ordered) <= limit:
        return dict(ordered)
    kept = dict(ordered[: limit - 1])
    kept["other"] = kept.get("other", 0) + sum(n for _, n in ordered[limit - 1 :])
    return kept


def stages_figure(runs: Sequence[RunCounts]) -> Figure | None:
    """Rows through each job's latest run: one stacked bar per job, out then each quarantine
    reason then each filter reason."""
    if not runs:
        return None
    quarantine = sorted({r for run in runs for r in run.quarantined_by_reason})
    filtered = sorted({r for run in runs for r in run.filtered_by_reason})
    segments: list[tuple[str, str, Callable[[RunCounts], int]]] = [("out", OUT, lambda run: run.rows_out)]
    segments += [
        (f"quarantined: {r}", _colour(QUARANTINE_COLOURS, i), _reason_count("quarantined_by_reason", r))
        for i, r in enumerate(quarantine)
    ]
    segments += [
        (f"filtered: {r}", _colour(FILTER_COLOURS, i), _reason_count("filtered_by_reason", r))
        for i, r in enumerate(filtered)
    ]
    fig = new_figure(1.6 + 0.45 * len(runs) + 0.18 * len(segments))
    ax = fig.add_subplot()
    labels = [run.job for run in runs][::-1]
    ordered = list(runs)[::-1]
    left = [0] * len(ordered)
    for name, colour, value in segments:
        widths = [value(run) for run in ordered]
        if not any(widths):
            continue
        ax.barh(labels, widths, left=left, color=colour, label=name, edgecolor="white", linewidth=0.5)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    most = max((run.rows_in for run in ordered), default=0) or 1
    for y, run in enumerate(ordered):
        mark = "" if run.reconciled else "  NOT RECONCILED"
        ax.text(run.rows_in + most * 0.01, y, f"{run.rows_in:,} in{mark}", va="center", fontsize=8)
    ax.set_xlim(0, most * 1.18)
    ax.set_xlabel("rows (each job counts its own input)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8, frameon=False)
    return fig


def bar_figure(counts: Mapping[str, int], xlabel: str, colour: str = AFTER, keep_order: bool = False) -> Figure | None:
    """Horizontal bars of ``counts`` (largest first, beyond :data:`MAX_BARS` summed as
    ``other``), values printed. ``keep_order``: every category in the given order, zeros
    included (a chart of all zeros still says what was looked for)."""
    if not counts or (not keep_order and not any(counts.values())):
        return None
    shown = dict(counts) if keep_order else top_counts(counts)
    names, values = list(shown)[::-1], list(shown.values())[::-1]
    fig = new_figure(1.2 + 0.3 * len(names))
    ax = fig.add_subplot()
    ax.barh(names, values, color=colour)
    most = max(values) or 1
    for y, value in enumerate(values):
        ax.text(value + most * 0.01, y, f"{value:,}", va="center", fontsize=8)
    ax.set_xlim(0, most * 1.15)
    ax.set_xlabel(xlabel)
    return fig


def rules_figure(rules: Sequence[RuleCount]) -> Figure | None:
    """Rows per annotation rule, blocked (quarantined) in red, flagged (kept) in orange."""
    if not rules:
        return None
    ordered = sorted(rules, key=lambda r: (r.severity, -r.rows, r.name))[::-1]
    fig = new_figure(1.4 + 0.3 * len(ordered))
    ax = fig.add_subplot()
    colours = {"blocked": QUARANTINE_COLOURS[0], "flagged": QUARANTINE_COLOURS[1]}
    names = [f"{r.name} ({r.severity})" for r in ordered]
    ax.barh(names, [r.rows for r in ordered], color=[colours.get(r.severity, FILTER_COLOURS[0]) for r in ordered])
    most = max((r.rows for r in ordered), default=0) or 1
    for y, rule in enumerate(ordered):
        ax.text(rule.rows + most * 0.01, y, f"{rule.rows:,}", va="center", fontsize=8)
    ax.set_xlim(0, most * 1.15)
    ax.set_xlabel("rows that broke the rule (blocked: quarantined; flagged: kept in silver)")
    return fig


def quality_figure(rules: Sequence[QualityRuleCount]) -> Figure | None:
    """Rows per quality rule (zeros included), drop rules in red, flag rules in orange, with a
    legend: drop rules filter the row from gold, flag rules only name it."""
    if not rules:
        return None
    ordered = sorted(rules, key=lambda r: (r.severity != "drop", -r.rows, r.name))[::-1]
    fig = new_figure(1.6 + 0.3 * len(ordered))
    ax = fig.add_subplot()
    colours = {"drop": QUARANTINE_COLOURS[0], "flag": QUARANTINE_COLOURS[1]}
    ax.barh(
        [r.name for r in ordered],
        [r.rows for r in ordered],
        color=[colours.get(r.severity, FILTER_COLOURS[0]) for r in ordered],
    )
    most = max((r.rows for r in ordered), default=0) or 1
    for y, rule in enumerate(ordered):
        ax.text(rule.rows + most * 0.01, y, f"{rule.rows:,}", va="center", fontsize=8)
    ax.set_xlim(0, most * 1.15)
    ax.set_xlabel("accepted rows whose quality_flags name the rule")
    severities = [s for s in ("drop", "flag") if any(r.severity == s for r in ordered)]
    labels = {"drop": "drop (kept in silver, filtered from gold)", "flag": "flag (kept, named in quality_flags)"}
    handles = [_patch(colours[s], labels[s]) for s in severities]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def classes_figure(before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]]) -> Figure | None:
    """Per group, rows per class before (eligible silver rows) and after rebalance (gold)."""
    groups = sorted(set(before) | set(after))
    if not groups:
        return None
    columns = 2 if len(groups) > 1 else 1
    rows = -(-len(groups) // columns)
    fig = new_figure(3.0 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, group in enumerate(groups):
        ax = axes[i // columns][i % columns]
        labels = sorted(set(before.get(group, {})) | set(after.get(group, {})))
        xs = range(len(labels))
        ax.bar([x - 0.2 for x in xs], [before.get(group, {}).get(lab, 0) for lab in labels], 0.4, color=BEFORE)
        ax.bar([x + 0.2 for x in xs], [after.get(group, {}).get(lab, 0) for lab in labels], 0.4, color=AFTER)
        tilted = len(labels) > 3
        ax.set_xticks(list(xs), labels, rotation=40 if tilted else 0, ha="right" if tilted else "center")
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(group or "all rows", fontsize=10)
        ax.set_ylabel("rows", fontsize=8)
    for j in range(len(groups), rows * columns):
        axes[j // columns][j % columns].set_visible(False)
    fig.legend(
        handles=[_patch(BEFORE, "before (eligible silver rows)"), _patch(AFTER, "after (gold rows, copies included)")],
        loc="outside lower center",
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    return fig


def _patch(colour: str, label: str):
    from matplotlib.patches import Patch

    return Patch(color=colour, label=label)


def confidence_figure(histogram: ConfidenceHistogram | None) -> Figure | None:
    """Stacked histogram of ``confidence`` by outcome, with a dashed line per threshold."""
    if histogram is None or histogram.rows == 0:
        return None
    edges = histogram.edges
    widths = [b - a for a, b in pairwise(edges)]
    fig = new_figure(3.6)
    ax = fig.add_subplot()
    bottom = [0] * len(widths)
    colours = (AFTER, QUARANTINE_COLOURS[0], FILTER_COLOURS[0], FILTER_COLOURS[2])
    for i, (name, counts) in enumerate(histogram.series.items()):
        ax.bar(edges[:-1], counts, widths, bottom=bottom, align="edge", color=colours[i % len(colours)], label=name)
        bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
    top = max(bottom) or 1
    for i, (name, value) in enumerate(sorted(histogram.thresholds.items(), key=lambda kv: kv[1])):
        ax.axvline(value, color="black", linestyle=(0, (4, 3)) if i % 2 == 0 else ":", linewidth=1.2)
        ax.text(value, top * (1.02 - 0.08 * i), f" {name} = {value:g}", fontsize=8, va="bottom")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, top * 1.2)
    ax.set_xlabel("confidence (out-of-sample probability of the given label)")
    ax.set_ylabel("labelled rows")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def drift_statistic(values: Sequence[DriftValue]) -> str | None:
    """The statistic the timeline plots: KL when present, else the first one computed."""
    names = [v.statistic for v in values if v.value is not None]
    if not names:
        return None
    return "kl" if "kl" in names else names[0]


def drift_figure(windows: Sequence[DriftWindow], values: Sequence[DriftValue]) -> Figure | None:
    """Per group, the drift statistic of every comparison by window (one line per
    distribution and baseline), its threshold dashed, alerting windows shaded red and each
    alerting comparison marked."""
    statistic = drift_statistic(values)
    if statistic is None:
        return None
    plotted = [v for v in values if v.statistic == statistic and v.value is not None]
    groups = sorted({v.group for v in plotted})
    fig = new_figure(2.6 * len(groups) + 0.6)
    axes = fig.subplots(len(groups), 1, squeeze=False)
    for ax, group in zip((row[0] for row in axes), groups, strict=True):
        own = sorted((w for w in windows if w.group == group), key=lambda w: (w.start, w.window))
        order = {w.window: i for i, w in enumerate(own)}
        for v in plotted:  # windows the window rows missed (should not happen) still get a place
            if v.group == group and v.window not in order:
                order[v.window] = len(order)
        for w in own:
            if w.alert:
                ax.axvspan(order[w.window] - 0.45, order[w.window] + 0.45, color=ALERT, alpha=0.12, linewidth=0)
        lines = sorted({(v.distribution, v.baseline) for v in plotted if v.group == group})
        for i, (distribution, baseline) in enumerate(lines):
            points = sorted(
                (order[v.window], v)
                for v in plotted
                if v.group == group and v.distribution == distribution and v.baseline == baseline
            )
            xs = [x for x, _ in points]
            ax.plot(
                xs,
                [v.value for _, v in points],
                marker="o",
                markersize=4,
                color=_colour(FILTER_COLOURS[2:] + FILTER_COLOURS[:2], i),
                linestyle="-" if baseline == "previous" else "--",
                label=f"{distribution} vs {baseline}",
            )
            alerting = [(x, v.value) for x, v in points if v.alert]
            if alerting:
                ax.scatter(*zip(*alerting, strict=True), color=ALERT, zorder=3, s=40, marker="D")
        thresholds = {v.threshold for v in plotted if v.group == group and v.threshold is not None}
        for threshold in thresholds:
            ax.axhline(threshold, color=ALERT, linestyle=(0, (4, 3)), linewidth=1)
            ax.text(0, threshold, f" threshold {threshold:g}", color=ALERT, fontsize=8, va="bottom")
        names = sorted(order, key=lambda name: order[name])
        ax.set_xticks(range(len(names)), names, rotation=30 if len(names) > 6 else 0, fontsize=8)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylabel(statistic, fontsize=9)
        ax.set_title(f"{group}: {sum(w.alert for w in own)} of {len(own)} windows alert", fontsize=10)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def review_queue_figure(queue: Mapping[str, Mapping[str, int]]) -> Figure | None:
    """Rows in ``review_queue`` per reason, stacked by status."""
    if not queue or not any(n for statuses in queue.values() for n in statuses.values()):
        return None
    reasons = sorted(queue, key=lambda r: (-sum(queue[r].values()), r))[::-1]
    statuses = sorted({s for statuses in queue.values() for s in statuses})
    fig = new_figure(1.4 + 0.35 * len(reasons))
    ax = fig.add_subplot()
    left = [0] * len(reasons)
    for i, status in enumerate(statuses):
        widths = [queue[r].get(status, 0) for r in reasons]
        colour = AFTER if status == "pending" else _colour((OUT, *FILTER_COLOURS), i)
        ax.barh(reasons, widths, left=left, color=colour, label=status)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    most = max(left) or 1
    for y, total in enumerate(left):
        ax.text(total + most * 0.01, y, f"{total:,}", va="center", fontsize=8)
    ax.set_xlim(0, most * 1.15)
    ax.set_xlabel(f"rows in review_queue ({sum(left):,} in all)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig
