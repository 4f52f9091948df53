"""The rebalance run's metrics details, typed: what the job writes and the report reads.

The class distribution before and after is keyed by cell, ``[<group>/]<label>[/<lang>]``
(the group when ``rebalance.group_by`` is set, the language when ``stratify_by_lang`` is):
``before.<cell>`` and ``after.<cell>`` in the ``metrics`` row's string map.
:meth:`RebalanceDetails.to_map` / :meth:`RebalanceDetails.from_map` are the only place those
keys are spelled. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RebalanceDetails:
    """The ``rebalance`` row's details: the silver version read, eligible rows (``before``)
    and gold rows, copies included (``after``), per cell, the weight per ``[<group>/]<label>``,
    the totals, and the filters skipped because silver lacks their column."""

    silver_version: int | None = None
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    gold_rows: int | None = None
    copies_added: int | None = None
    filters_skipped: list[str] = field(default_factory=list)

    def to_map(self) -> dict[str, str]:
        """The string map of the ``metrics`` row (each cell's before and after together)."""
        details: dict[str, str] = {}
        if self.silver_version is not None:
            details["silver_version"] = str(self.silver_version)
        for cell in dict.fromkeys([*self.before, *self.after]):
            if cell in self.before:
                details[f"before.{cell}"] = str(self.before[cell])
            if cell in self.after:
                details[f"after.{cell}"] = str(self.after[cell])
        details |= {f"weight.{key}": f"{w:.6g}" for key, w in self.weights.items()}
        if self.gold_rows is not None:
            details["gold_rows"] = str(self.gold_rows)
        if self.copies_added is not None:
            details["copies_added"] = str(self.copies_added)
        if self.filters_skipped:
            details["filters_skipped"] = "; ".join(self.filters_skipped)
        return details

    @classmethod
    def from_map(cls, details: dict[str, str]) -> RebalanceDetails:
        """Read a ``rebalance`` row's details back; keys it does not know are skipped."""
        read = cls()
        for key, value in details.items():
            side, _, cell = key.partition(".")
            if side == "before":
                read.before[cell] = int(value)
            elif side == "after":
                read.after[cell] = int(value)
            elif side == "weight":
                read.weights[cell] = float(value)
            elif key == "silver_version":
                read.silver_version = int(value)
            elif key == "gold_rows":
                read.gold_rows = int(value)
            elif key == "copies_added":
                read.copies_added = int(value)
            elif key == "filters_skipped":
                read.filters_skipped = value.split("; ") if value else []
        return read
