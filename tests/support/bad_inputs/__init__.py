"""The bad-input corpus (issue 9): a generator writing one ingest source per kind of malformed
input, each with what ingest is expected to make of it.

Every kind lives in its own sub-folder and is its own ingest source (``bad_<kind>``), so the
per-source metrics row ``ingest/<source>`` checks each kind on its own: ``rows_in`` must be
the generator's record count, and the split into out / quarantined / filtered must be the
expected one where it is determined. Where more than one outcome is defensible (random bytes,
encoding detection of a mixed file) the expectation is :data:`ANY`: the records must still be
counted and accounted for, but the split is not pinned.

What counts as a *record* is ingest's unit for the format: a physical line for text and JSONL
(split on the byte ``\\n``, a final empty line not counted), a CSV record (a quoted field may
span lines, a header is not a record), a Parquet row, and a whole file when it cannot be read
at all (one ``unreadable_file`` row per file).

The corpus is generated at test time (nothing here is stored as a data file) and is small
apart from two deliberate giants: a 10 MB single line and 1 MB of PII-like digits.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.bad_inputs.corpus import ANY, LABELS, MAX_TEXT_CHARS, PII_GROUPS, BadKind, Writer, byte_lines
from tests.support.bad_inputs.files import delimited, encodings, parquet, sizes_and_files
from tests.support.bad_inputs.json_records import json_structure, json_values
from tests.support.bad_inputs.text_and_labels import ids_labels, unicode

__all__ = ["ANY", "LABELS", "MAX_TEXT_CHARS", "PII_GROUPS", "BadKind", "byte_lines", "write_bad_corpus"]


def write_bad_corpus(folder: Path) -> list[BadKind]:
    """Write every kind under ``folder/bad/<kind>/``; return the kinds (sources ``bad_<kind>``)."""
    w = Writer(folder / "bad")
    for write_kinds in (
        encodings,
        sizes_and_files,
        delimited,
        json_structure,
        json_values,
        unicode,
        ids_labels,
        parquet,
    ):
        write_kinds(w)
    return w.kinds
