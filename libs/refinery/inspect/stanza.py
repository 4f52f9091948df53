"""The YAML ``refinery inspect`` prints: a config file of its own that ``extends`` the local
config, ingests only the proposed source, and says above each proposed key why it has its
value (a ``#`` line), in ``SourceSettings``' spelling, so that ``make run CONF=my.yaml`` runs it
as it stands and a person can check each guess where it is written."""

from __future__ import annotations

import re
from typing import Any

import yaml

from refinery.sources.sniff import Proposal

#: Keys of a source, in the order they are written (``SourceSettings``' order).
KEY_ORDER = (
    "path",
    "format",
    "encoding",
    "fallback_encoding",
    "header",
    "delimiter",
    "quoting",
    "columns",
    "text_join",
    "label_from_path",
    "label_map",
    "labels",
    "label_required",
)
#: Keys left at their default, explained by a comment line alone.
_DEFAULT_NOTES = {"encoding": "encoding: auto", "header": "header: false", "quoting": "quoting: minimal"}
_SOURCE, _COLUMN = " " * 6, " " * 8


def render_config(proposal: Proposal, name: str, extends: str, input_root: str = ".") -> str:
    """The whole YAML file: ``extends``, ``ingest.input_root``, ``ingest.only: [name]`` and
    the source stanza with its reasons."""
    files = len(proposal.files) or 1
    lines = [
        f"# refinery inspect: a guess from {proposal.records:,} sampled records of {files:,} file(s);",
        "# check each commented line (labels, label_map), then: make run CONF=this-file.yaml",
        f"extends: {scalar(extends)}",
        "",
        "ingest:",
        f"  input_root: {scalar(input_root)}",
        f"  only: [{scalar(name)}]",
        "  sources:",
        f"    {scalar(name)}:",
        *stanza_lines(proposal),
    ]
    return "\n".join(lines) + "\n"


def stanza_lines(proposal: Proposal) -> list[str]:
    """The source's keys, each preceded by a comment line with its reason."""
    out: list[str] = []
    for key in KEY_ORDER:
        why = proposal.why.get(key, "")
        if key not in proposal.settings:
            if key in _DEFAULT_NOTES and why:
                out.append(f"{_SOURCE}# {_DEFAULT_NOTES[key]} (the default): {why}")
            elif key == "text_join" and why:
                out.append(f"{_SOURCE}# {why}")
            continue
        value = proposal.settings[key]
        if key == "columns":
            out.append(f"{_SOURCE}columns:")
            for role, ref in value.items():
                out += _commented(_COLUMN, proposal.why.get(f"columns.{role}", ""), f"{role}: {scalar(ref)}")
            continue
        out += _commented(_SOURCE, why, f"{key}: {scalar(value)}")
        if key == "labels":
            out += _label_map_hint(value)
    return out


def _commented(indent: str, why: str, line: str) -> list[str]:
    return ([f"{indent}# {why}"] if why else []) + [f"{indent}{line}"]


def _label_map_hint(labels: list[str]) -> list[str]:
    """A commented-out ``label_map`` when the labels are numbers: naming them is the user's."""
    if not labels or not all(re.fullmatch(r"-?\d+", label) for label in labels):
        return []
    example = ", ".join(f'"{label}": name{label}' for label in labels[:4]) + (", ..." if len(labels) > 4 else "")
    return [
        f"{_SOURCE}# the labels are numbers: to name them, map each and list the names in labels instead:",
        f"{_SOURCE}# label_map: {{{example}}}",
    ]


def scalar(value: Any) -> str:
    """``value`` as one line of YAML flow style that reads back as the same value (``"1"``
    stays a string, a regex keeps its backslashes)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20, sort_keys=False)
    return dumped.removesuffix("\n...\n").strip()
