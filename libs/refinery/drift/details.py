"""The drift run's metrics details, typed: what the job writes and the report reads.

A drift run writes one ``drift`` row (its settings and totals), one quiet
``drift/<group>/<window>`` row per reported window and four quiet
``drift/<group>/<window>/<distribution>/<statistic>/<baseline>`` rows per comparison; the
``kind`` detail (``run``, ``window``, ``statistic``) says which. Each kind is a record here
whose ``to_map()`` / ``from_map()`` pair is the only place its keys are spelled. Numbers are
written with six significant digits (``none``: not computable). Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RUN, WINDOW, STATISTIC = "run", "window", "statistic"


def number_text(value: float | None) -> str:
    """A number as the details write it: six significant digits, ``none`` for ``None``."""
    return "none" if value is None else f"{value:.6g}"


def text_number(text: str | None) -> float | None:
    """:func:`number_text` read back (``None`` for ``none`` or nothing)."""
    return None if text in (None, "", "none") else float(text)


def _optional_int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _flag(value: bool) -> str:
    return str(value).lower()


def _list(text: str | None, sep: str) -> list[str]:
    return text.split(sep) if text else []


@dataclass
class DriftRunDetails:
    """The ``drift`` row: the settings that decided the run (``reference`` as its label,
    ``group_by`` ``None`` when not grouped, a threshold per statistic), the totals, the
    alerting windows (``<group>/<window>``) and the notes."""

    silver_version: int = 0
    window: str = ""
    reference: str = ""
    group_by: str | None = None
    distributions: list[str] = field(default_factory=list)
    smoothing: float | None = None
    min_rows: int = 0
    groups: int = 0
    windows: int = 0
    comparisons: int = 0
    alerts: int = 0
    alert_windows: list[str] = field(default_factory=list)
    thresholds: dict[str, float | None] = field(default_factory=dict)
    #: ``drift.last_windows`` and the windows before them (baselines only), when set.
    last_windows: int | None = None
    windows_before: int | None = None
    fail_on_alert: bool = False
    notes: list[str] = field(default_factory=list)

    def to_map(self) -> dict[str, str]:
        details = {
            "kind": RUN,
            "silver_version": str(self.silver_version),
            "window": self.window,
            "reference": self.reference,
            "group_by": self.group_by or "null",
            "distributions": ",".join(self.distributions),
            "smoothing": number_text(self.smoothing),
            "min_rows": str(self.min_rows),
            "groups": str(self.groups),
            "windows": str(self.windows),
            "comparisons": str(self.comparisons),
            "alerts": str(self.alerts),
            "alert_windows": ", ".join(self.alert_windows),
        }
        details |= {f"threshold.{name}": number_text(value) for name, value in self.thresholds.items()}
        if self.last_windows is not None:
            details["last_windows"] = str(self.last_windows)
            details["windows_before"] = str(self.windows_before)
        details["fail_on_alert"] = _flag(self.fail_on_alert)
        if self.notes:
            details["note"] = "; ".join(self.notes)
        return details

    @classmethod
    def from_map(cls, details: dict[str, str]) -> DriftRunDetails:
        """A ``drift`` row's details read back; missing keys keep their defaults."""
        d = details.get
        group_by = d("group_by")
        return cls(
            silver_version=int(d("silver_version", 0)),
            window=d("window", ""),
            reference=d("reference", ""),
            group_by=None if group_by in (None, "null") else group_by,
            distributions=_list(d("distributions"), ","),
            smoothing=text_number(d("smoothing")),
            min_rows=int(d("min_rows", 0)),
            groups=int(d("groups", 0)),
            windows=int(d("windows", 0)),
            comparisons=int(d("comparisons", 0)),
            alerts=int(d("alerts", 0)),
            alert_windows=_list(d("alert_windows"), ", "),
            thresholds={
                k[len("threshold.") :]: text_number(v) for k, v in details.items() if k.startswith("threshold.")
            },
            last_windows=_optional_int(d("last_windows")),
            windows_before=_optional_int(d("windows_before")),
            fail_on_alert=d("fail_on_alert") == "true",
            notes=_list(d("note"), "; "),
        )


@dataclass
class DriftWindowDetails:
    """A ``drift/<group>/<window>`` row: the window's bounds and rows, its category counts
    per distribution (``counts[distribution][value]``), its score summary (``scored``
    ``None``: silver has no scores) and its alerts (``<distribution>/<statistic>/<baseline>``)."""

    group: str = ""
    window: str = ""
    window_start: str = ""
    window_end: str = ""
    rows: int = 0
    labelled: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    scored: int | None = None
    confidence_mean: float | None = None
    noisy_share: float | None = None
    alerts: list[str] = field(default_factory=list)

    @property
    def alert(self) -> bool:
        return bool(self.alerts)

    def to_map(self) -> dict[str, str]:
        details = {
            "kind": WINDOW,
            "group": self.group,
            "window": self.window,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "rows": str(self.rows),
            "labelled": str(self.labelled),
        }
        for distribution, counts in sorted(self.counts.items()):
            for value, n in sorted(counts.items()):
                details[f"{distribution}.{value}"] = str(n)
        if self.scored is not None:
            details["scored"] = str(self.scored)
            details["confidence_mean"] = number_text(self.confidence_mean)
            details["noisy_share"] = number_text(self.noisy_share)
        details["alert"] = _flag(self.alert)
        details["alerts"] = ", ".join(self.alerts)
        return details

    @classmethod
    def from_map(cls, details: dict[str, str]) -> DriftWindowDetails:
        """A window row's details read back; missing keys keep their defaults."""
        d = details.get
        counts: dict[str, dict[str, int]] = {}
        for key, value in details.items():
            distribution, dot, category = key.partition(".")
            if dot:  # no fixed key holds a dot
                counts.setdefault(distribution, {})[category] = int(value)
        return cls(
            group=d("group", ""),
            window=d("window", ""),
            window_start=d("window_start") or "",
            window_end=d("window_end") or "",
            rows=int(d("rows", 0)),
            labelled=int(d("labelled", 0)),
            counts=counts,
            scored=_optional_int(d("scored")),
            confidence_mean=text_number(d("confidence_mean")),
            noisy_share=text_number(d("noisy_share")),
            alerts=_list(d("alerts"), ", "),
        )


@dataclass
class DriftStatisticDetails:
    """A ``drift/<group>/<window>/<distribution>/<statistic>/<baseline>`` row: the value,
    its threshold and direction (``above``; ``below`` for ``p_value``), whether it alerted and
    could, the sample sizes, and per statistic its smoothing (``kl``, ``psi``) or its χ² test
    (``p_value``: ``chi2``, ``dof``, ``pooled`` categories)."""

    group: str = ""
    window: str = ""
    window_start: str = ""
    distribution: str = ""
    statistic: str = ""
    baseline: str = ""
    baseline_window: str = ""
    value: float | None = None
    threshold: float | None = None
    direction: str = "above"
    alert: bool = False
    alertable: bool = False
    n_window: int = 0
    n_baseline: int = 0
    categories: int = 0
    smoothing: float | None = None
    chi2: float | None = None
    dof: int | None = None
    pooled: int | None = None

    def to_map(self) -> dict[str, str]:
        details = {
            "kind": STATISTIC,
            "group": self.group,
            "window": self.window,
            "window_start": self.window_start,
            "distribution": self.distribution,
            "statistic": self.statistic,
            "baseline": self.baseline,
            "baseline_window": self.baseline_window,
            "value": number_text(self.value),
            "threshold": number_text(self.threshold),
            "direction": self.direction,
            "alert": _flag(self.alert),
            "alertable": _flag(self.alertable),
            "n_window": str(self.n_window),
            "n_baseline": str(self.n_baseline),
            "categories": str(self.categories),
        }
        if self.smoothing is not None:
            details["smoothing"] = number_text(self.smoothing)
        if self.chi2 is not None or self.dof is not None:
            details.update(chi2=number_text(self.chi2), dof=str(self.dof), pooled=str(self.pooled))
        return details

    @classmethod
    def from_map(cls, details: dict[str, str]) -> DriftStatisticDetails:
        """A statistic row's details read back; missing keys keep their defaults."""
        d = details.get
        return cls(
            group=d("group", ""),
            window=d("window", ""),
            window_start=d("window_start") or "",
            distribution=d("distribution", ""),
            statistic=d("statistic", ""),
            baseline=d("baseline", ""),
            baseline_window=d("baseline_window", ""),
            value=text_number(d("value")),
            threshold=text_number(d("threshold")),
            direction=d("direction", "above"),
            alert=d("alert") == "true",
            alertable=d("alertable") == "true",
            n_window=int(d("n_window", 0)),
            n_baseline=int(d("n_baseline", 0)),
            categories=int(d("categories", 0)),
            smoothing=text_number(d("smoothing")),
            chi2=text_number(d("chi2")),
            dof=_optional_int(d("dof")),
            pooled=_optional_int(d("pooled")),
        )
