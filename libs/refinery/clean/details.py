"""The clean run's metrics details, typed: what the job counts and what the report reads.

The ``metrics`` table stores a stage's details as a string map (so that every job's row has
one schema and old tables still read). The clean job writes, and the report reads back,
distributions whose keys carry a name: ``lang.zh``, ``pii.EMAIL``, ``rule.<name>.blocked``,
``quality.<name>.dropped``, ``cpu.<step>.ns_per_doc``. :class:`CleanDetails` holds them as
typed fields, and :meth:`CleanDetails.to_map` / :meth:`CleanDetails.from_map` are the only
place those keys are spelled. Pure Python: the report reads them without the clean chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: An annotation rule's outcome word in its key: a ``block`` rule's rows are ``blocked``
#: (quarantined), a ``flag`` rule's ``flagged`` (kept, named in ``rule_violations``).
RULE_OUTCOMES = ("blocked", "flagged")
#: A quality rule's key suffix → its severity (``flag``: kept everywhere; ``drop``: kept in
#: silver, filtered from gold).
QUALITY_SUFFIXES = {"flagged": "flag", "dropped": "drop"}
_QUALITY_KEYS = {severity: suffix for suffix, severity in QUALITY_SUFFIXES.items()}


@dataclass(frozen=True)
class RuleTally:
    """One rule's rows: ``kind`` is an annotation rule's outcome (``blocked`` / ``flagged``)
    or a quality rule's severity (``flag`` / ``drop``)."""

    kind: str
    rows: int


@dataclass
class CleanDetails:
    """The ``clean`` row's details. Of the accepted rows: documents per language
    (``languages``), PII found per type (``pii``, types found only) and documents changed
    per normalization step (``normalize``, steps that changed one only). Per active
    annotation rule, the rows that violate it (``rules``, zero included) and
    ``rules_flagged_rows``, the accepted rows carrying at least one flag (``None``: no active
    rule). Per active quality rule, the accepted rows it flagged (``quality``) and the totals
    ``quality_flagged_rows`` / ``quality_dropped_rows`` (``None``: no quality rule). The
    Python workers' CPU nanoseconds per input document of each timed step and ``total``
    (``cpu_ns_per_doc``) and their milliseconds in all (``cpu_total_ms``)."""

    languages: dict[str, int] = field(default_factory=dict)
    pii: dict[str, int] = field(default_factory=dict)
    normalize: dict[str, int] = field(default_factory=dict)
    rules: dict[str, RuleTally] = field(default_factory=dict)
    rules_flagged_rows: int | None = None
    quality: dict[str, RuleTally] = field(default_factory=dict)
    quality_flagged_rows: int | None = None
    quality_dropped_rows: int | None = None
    cpu_ns_per_doc: dict[str, int] = field(default_factory=dict)
    cpu_total_ms: int | None = None

    def to_map(self) -> dict[str, str]:
        """The string map of the ``metrics`` row: the counts (languages first, then the rest
        by key), then the CPU times."""
        counts: dict[str, int] = {f"lang.{lang}": n for lang, n in self.languages.items()}
        counts |= {f"pii.{name}": n for name, n in self.pii.items()}
        counts |= {f"normalize.{name}": n for name, n in self.normalize.items()}
        counts |= {f"rule.{name}.{t.kind}": t.rows for name, t in self.rules.items()}
        if self.rules_flagged_rows is not None:
            counts["rules.flagged_rows"] = self.rules_flagged_rows
        counts |= {f"quality.{name}.{_QUALITY_KEYS[t.kind]}": t.rows for name, t in self.quality.items()}
        if self.quality_flagged_rows is not None:
            counts["quality.flagged_rows"] = self.quality_flagged_rows
        if self.quality_dropped_rows is not None:
            counts["quality.dropped_rows"] = self.quality_dropped_rows
        ordered = sorted(counts, key=lambda key: (not key.startswith("lang."), key))
        details = {key: str(counts[key]) for key in ordered}
        details |= {f"cpu.{step}.ns_per_doc": str(ns) for step, ns in self.cpu_ns_per_doc.items()}
        if self.cpu_total_ms is not None:
            details["cpu.total.ms"] = str(self.cpu_total_ms)
        return details

    @classmethod
    def from_map(cls, details: dict[str, str]) -> CleanDetails:
        """Read a ``clean`` row's details back; keys it does not know are skipped, and so is a
        quality key whose value is not a whole number (not a count of a rule)."""
        read = cls()
        for key, value in details.items():
            group, _, rest = key.partition(".")
            if group == "lang":
                read.languages[rest] = int(value)
            elif group == "pii":
                read.pii[rest] = int(value)
            elif group == "normalize":
                read.normalize[rest] = int(value)
            elif group == "rule":
                name, _, kind = rest.rpartition(".")
                read.rules[name] = RuleTally(kind, int(value))
            elif group == "rules" and rest == "flagged_rows":
                read.rules_flagged_rows = int(value)
            elif group == "quality" and value.isdigit():
                if rest == "flagged_rows":
                    read.quality_flagged_rows = int(value)
                elif rest == "dropped_rows":
                    read.quality_dropped_rows = int(value)
                else:
                    name, _, suffix = rest.rpartition(".")
                    if name and suffix in QUALITY_SUFFIXES:
                        read.quality[name] = RuleTally(QUALITY_SUFFIXES[suffix], int(value))
            elif group == "cpu":
                if rest == "total.ms":
                    read.cpu_total_ms = int(value)
                elif rest.endswith(".ns_per_doc"):
                    read.cpu_ns_per_doc[rest.removesuffix(".ns_per_doc")] = int(value)
        return read
