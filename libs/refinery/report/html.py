"""The run report as one self-contained HTML page, from :class:`~refinery.report.data.ReportData`.

No external assets: the plots are PNG ``data:`` URIs and the page's Content-Security-Policy
forbids loading anything else. Every plot sits in ``<figure class="plot" id="plot-<key>">``
(:data:`PLOT_IDS`) under ``<section id="section-<key>">`` with an ``<h2>``; a section without
data keeps its figure, holding ``<p class="no-data">`` that says why. Everything from the
tables is escaped. The page shows counts, category names (sources, labels, languages,
reasons, rules) and run ids; the one exception is the quality section, which shows up to
``report.quality_examples`` short examples per quality rule of silver's ``text`` (which the
clean job has already PII-masked), each in ``<blockquote class="quality-example"
data-rule="<rule>" data-id="<record id>">``. ``report.quality_examples: 0`` turns them off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from refinery.report import plots
from refinery.report.data import QualityRuleCount, ReportData


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    job: str
    caption: str


SECTIONS: tuple[Section, ...] = (
    Section(
        "stages",
        "Rows through each stage",
        "",
        "Each job's latest run: rows out, quarantined and filtered by reason (in = out + quarantined + filtered).",
    ),
    Section("languages", "Languages", "clean", "Documents the clean run accepted, per detected language."),
    Section("pii", "PII masked, by type", "clean", "PII spans the clean run found and masked in accepted documents."),
    Section(
        "rules",
        "Annotation rules",
        "clean",
        "Rows of the clean run that broke each active rule (zero included).",
    ),
    Section(
        "quality",
        "Quality heuristics",
        "clean",
        "Accepted rows of the clean run that broke each active quality rule (zero included); "
        "drop rules filter the row from gold, flag rules only name it in quality_flags.",
    ),
    Section(
        "classes",
        "Classes before and after rebalance",
        "rebalance",
        "Per group: eligible silver rows per class, and gold rows per class after resampling.",
    ),
    Section(
        "confidence",
        "Confidence",
        "score",
        "Labelled rows of the score run per confidence bin, flagged noisy or kept; dashed lines are the thresholds.",
    ),
    Section(
        "drift",
        "Drift timeline",
        "drift",
        "Per group: the divergence of each window from its baseline; shaded windows and diamonds alert.",
    ),
    Section("review-queue", "Review queue", "select", "Rows in review_queue per reason and status."),
)
PLOT_IDS: tuple[str, ...] = tuple(f"plot-{s.key}" for s in SECTIONS)

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 960px;
       padding: 1.5rem; color: #212121; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2rem; }
.meta { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.6rem 0; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure.plot { margin: 0.8rem 0; } figure.plot img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.85rem; }
p.no-data { background: #fff8e1; border: 1px solid #ffe082; padding: 0.6rem 0.8rem; margin: 0; }
.bad { color: #c62828; font-weight: bold; } .alert { color: #c62828; }
h3.quality-rule { font-size: 1rem; margin: 1rem 0 0.3rem; }
blockquote.quality-example { margin: 0.4rem 0 0.6rem; padding: 0.3rem 0.8rem; border-left: 3px solid #ef6c00;
       background: #fafafa; font-size: 0.9rem; }
blockquote.quality-example p { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
blockquote.quality-example footer { color: #555; font-size: 0.8rem; margin-top: 0.2rem; }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render_report(data: ReportData) -> str:
    """The whole page."""
    return build_report(data)[0]


def build_report(data: ReportData) -> tuple[str, list[str]]:
    """The whole page, and the keys of the sections that had no data."""
    ran = {run.job for run in data.runs}
    no_data = []
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Refinery run report {escape(data.run_id)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Refinery run report</h1>",
        f'<p class="meta">Report run <code>{escape(data.run_id)}</code>, made {escape(data.generated_at)}. '
        "It covers the latest run of each job (below) and the tables as they are now. Counts only, except "
        "for a few short examples per quality rule of silver's text, which clean has PII-masked "
        "(report.quality_examples: 0 turns them off).</p>",
        _runs_table(data),
        _tables_table(data),
    ]
    for section in SECTIONS:
        figure, extra = BUILDERS[section.key](data)
        why = _no_data_reason(section, data, ran)
        if figure is None:
            no_data.append(section.key)
        parts.append(f'<section id="section-{section.key}"><h2>{escape(section.title)}</h2>')
        parts.append(_figure(section, figure, why, _run_of(data, section.job)))
        parts.extend(extra)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n", no_data


def _run_of(data: ReportData, job: str) -> str | None:
    return next((run.run_id for run in data.runs if run.job == job), None) if job else None


def _figure(section: Section, figure, why: str, run_id: str | None) -> str:
    if figure is None:
        note = f'<p class="no-data">No data: {escape(why)}</p>'
        return f'<figure class="plot no-data" id="plot-{section.key}">{note}</figure>'
    uri = plots.png_data_uri(figure)
    caption = escape(section.caption) + (f" Run <code>{escape(run_id)}</code>." if run_id else "")
    return (
        f'<figure class="plot" id="plot-{section.key}"><img alt="{escape(section.title)}" src="{uri}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _no_data_reason(section: Section, data: ReportData, ran: set[str]) -> str:
    if section.job and section.job not in ran:
        return f"no {section.job} run in the metrics table yet (refinery {section.job})."
    return {
        "stages": "no job has written metrics yet.",
        "languages": "the clean run accepted no documents.",
        "pii": "the clean run reported no PII counts.",
        "rules": "the clean run checked no annotation rules (clean.rules is null or every rule is disabled).",
        "quality": "the clean run wrote no quality rule counts (quality.<rule>.* details): its quality "
        "heuristics were off, or it ran before clean checked them.",
        "classes": "the rebalance run found no eligible rows.",
        "confidence": "no labelled silver row carries a confidence from the score run.",
        "drift": _drift_reason(data),
        "review-queue": "review_queue is empty or not written yet.",
    }[section.key]


def _drift_reason(data: ReportData) -> str:
    groups = {w.group for w in data.drift_windows}
    said = f"{len(data.drift_windows)} window(s) in {len(groups)} group(s), no comparison to plot"
    return f"{said}; {data.drift_note}" if data.drift_note else f"{said}."


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[bool] = ()) -> str:
    cells = ["<table><thead><tr>", *(f"<th>{escape(h)}</th>" for h in header), "</tr></thead><tbody>"]
    for row in rows:
        cells.append("<tr>")
        for i, value in enumerate(row):
            is_number = i < len(numeric) and numeric[i]
            text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
            cells.append(f'<td class="n">{escape(text)}</td>' if is_number else f"<td>{escape(text)}</td>")
        cells.append("</tr>")
    cells.append("</tbody></table>")
    return "".join(cells)


def _reasons(by_reason: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in sorted(by_reason.items())) or "-"


def _runs_table(data: ReportData) -> str:
    if not data.runs:
        return '<p class="no-data">No job has written metrics yet.</p>'
    rows = [
        (
            r.job,
            r.run_id,
            r.finished_at,
            r.rows_in,
            r.rows_out,
            r.rows_quarantined,
            r.rows_filtered,
            "reconciled" if r.reconciled else "NOT RECONCILED",
        )
        for r in data.runs
    ]
    header = ("job", "run id", "finished (UTC)", "in", "out", "quarantined", "filtered", "counts")
    return '<h2 id="runs">Runs</h2>' + _table(header, rows, (False, False, False, True, True, True, True, False))


def _tables_table(data: ReportData) -> str:
    if not data.tables:
        return ""
    rows = [(name, "-" if n is None else n, location) for name, n, location in data.tables]
    return _table(("table", "rows", "location"), rows, (False, True, False))


def _stages(data: ReportData):
    extra = []
    if data.runs:
        rows = [
            (r.job, _reasons(r.quarantined_by_reason), _reasons(r.filtered_by_reason))
            for r in data.runs
            if r.quarantined_by_reason or r.filtered_by_reason
        ]
        if rows:
            extra.append(_table(("job", "quarantined by reason", "filtered by reason"), rows))
    if data.duplicates:
        d = data.duplicates
        extra.append(
            f"<p>silver duplicates (dedup; flagged, kept): exact {d.get('exact_duplicates', 0):,}, "
            f"near {d.get('near_duplicates', 0):,} in {d.get('clusters', 0):,} clusters; "
            f"rows with a label conflict {d.get('label_conflict_rows', 0):,}.</p>"
        )
    return plots.stages_figure(data.runs), extra


def _languages(data: ReportData):
    return plots.bar_figure(data.languages, "accepted documents"), []


def _pii(data: ReportData):
    return plots.bar_figure(data.pii, "PII spans masked", colour=plots.QUARANTINE_COLOURS[2], keep_order=True), []


def _rules(data: ReportData):
    return plots.rules_figure(data.rules), []


SEVERITY_NAMES = {"drop": "drop (filtered from gold)", "flag": "flag"}


def _share(rows: int, accepted: int | None) -> str:
    return f"{rows / accepted:.2%}" if accepted else "-"


def _quality(data: ReportData):
    counts = data.quality
    if not counts:
        return None, []
    totals = data.quality_rows
    accepted = totals.get("accepted_rows")
    extra = []
    if "flagged_rows" in totals or "dropped_rows" in totals:
        flagged, dropped = totals.get("flagged_rows", 0), totals.get("dropped_rows", 0)
        of = f" of {accepted:,} accepted" if accepted is not None else ""
        extra.append(
            f"<p>Rows with at least one quality flag: {flagged:,}{of} ({_share(flagged, accepted)}); "
            f"with a drop rule's flag (kept in silver, filtered from gold): {dropped:,} "
            f"({_share(dropped, accepted)}).</p>"
        )
    header = ("rule", "severity", "rows flagged", "share of accepted rows")
    rows = [(q.name, SEVERITY_NAMES.get(q.severity, q.severity), q.rows, _share(q.rows, accepted)) for q in counts]
    extra.append(_table(header, rows, (False, False, True, True)))
    extra.append(_quality_examples(counts, data))
    return plots.quality_figure(counts), extra


def _quality_examples(counts: Sequence[QualityRuleCount], data: ReportData) -> str:
    """Per rule with examples, its examples as blockquotes (text and names escaped)."""
    parts = []
    if data.quality_examples_note:
        parts.append(f'<p class="quality-note">{escape(data.quality_examples_note)}</p>')
    shown = [q for q in counts if data.quality_examples.get(q.name)]
    if shown:
        parts.append(
            "<p>Examples: silver rows that broke each rule (of the clean run above), picked by a hash of their id; "
            "their text is PII-masked by clean and cut short.</p>"
        )
    for q in shown:
        parts.append(f'<h3 class="quality-rule">{escape(q.name)}</h3>')
        for example in data.quality_examples[q.name]:
            caption = " · ".join(
                (f"source {example.source or '-'}", f"lang {example.lang or '-'}", f"id {example.record_id}")
            )
            parts.append(
                f'<blockquote class="quality-example" data-rule="{escape(example.rule)}" '
                f'data-id="{escape(example.record_id)}"><p>{escape(example.text)}</p>'
                f"<footer>{escape(caption)}</footer></blockquote>"
            )
    return "\n".join(parts)


def _classes(data: ReportData):
    extra = []
    if data.gold:
        header = ("source", "gold rows", "copies", "classes", "smallest", "largest", "weights")
        rows = [
            (g["source"], g["rows"], g["copies"], g["classes"], g["smallest"], g["largest"], _range(g))
            for g in data.gold
        ]
        extra.append("<p>gold now, by source:</p>" + _table(header, rows, (False, True, True, True, True, True)))
    return plots.classes_figure(data.classes_before, data.classes_after), extra


def _fraction(value: Any) -> str:
    return f"{float(value or 0):.3f}"


def _range(gold: dict[str, Any]) -> str:
    return f"{float(gold['w_min'] or 0):.3f} .. {float(gold['w_max'] or 0):.3f}"


def _confidence(data: ReportData):
    extra = []
    if data.scores:
        header = ("source", "scored", "flagged noisy", "mean confidence", "accuracy vs given label")
        rows = [
            (s["source"], s["scored"], s["noisy"], _fraction(s["confidence"]), _fraction(s["accuracy"]))
            for s in data.scores
        ]
        extra.append("<p>silver labels by source:</p>" + _table(header, rows, (False, True, True, True, True)))
    return plots.confidence_figure(data.confidence), extra


def _drift(data: ReportData):
    extra = []
    if data.drift_windows:
        rows = [
            (w.group, w.window, w.start, w.rows, "alert: " + w.alerts if w.alert else "-")
            for w in sorted(data.drift_windows, key=lambda w: (w.group, w.start, w.window))
        ]
        extra.append(_table(("group", "window", "start", "rows", "alerts"), rows, (False, False, False, True, False)))
    figure = plots.drift_figure(data.drift_windows, data.drift_values)
    if figure is not None and data.drift_note:
        extra.append(f"<p>{escape(data.drift_note)}</p>")
    return figure, extra


def _review_queue(data: ReportData):
    return plots.review_queue_figure(data.review_queue), []


BUILDERS: dict[str, Callable[[ReportData], tuple[object, list[str]]]] = {
    "stages": _stages,
    "languages": _languages,
    "pii": _pii,
    "rules": _rules,
    "quality": _quality,
    "classes": _classes,
    "confidence": _confidence,
    "drift": _drift,
    "review-queue": _review_queue,
}
