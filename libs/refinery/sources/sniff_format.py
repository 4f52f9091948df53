"""The ``format``, ``delimiter``, ``quoting`` and ``header`` ``refinery inspect`` proposes for
the decoded lines of a file's head.

* **jsonl** when nearly every non-blank line is one JSON object.
* **csv / tsv** when, for one delimiter (tab, comma, semicolon, pipe), nearly every record has
  the same number of fields, at least two. A tab gives ``tsv``, anything else ``csv`` (with
  ``delimiter`` set when it is not a comma).
* **text** otherwise: one record per line.

Quoting: a TSV is raw unless some quoted field holds a tab or a line break (only RFC 4180
quotes allow that), so it gets ``quoting: none`` (the SMS and THUCNews files: a message that
starts with ``"`` is not a quoted field). A CSV keeps RFC-4180
quotes unless they break its records and literal quotes do not.

The header: the first record is one when its fields look like names (short, distinct, not
numbers) and some column says so: numbers below a name, a low-cardinality column whose values
never include the first record's, or long varied texts below a short word.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from refinery.sources import strict_json

#: Candidate delimiters, in order of preference on a tie.
DELIMITERS = ("\t", ",", ";", "|")
#: Share of records (lines for JSONL) that must agree for a format to be chosen.
CONSISTENT_SHARE = 0.9
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class FormatGuess:
    """The record format of a head, and a reason for each choice."""

    format: str
    delimiter: str | None = None
    quoting: str = "minimal"
    header: bool = False
    why_format: str = ""
    why_quoting: str = ""
    why_header: str = ""


def guess_format(lines: Sequence[str]) -> FormatGuess:
    """The format of a file whose head decodes to ``lines`` (without newlines)."""
    content = [line for line in lines if line.strip()]
    if not content:
        return FormatGuess("text", why_format="no non-blank line in the head")
    objects = sum(_is_json_object(line) for line in content)
    if objects >= CONSISTENT_SHARE * len(content):
        return FormatGuess("jsonl", why_format=f"{objects:,} of {len(content):,} lines are JSON objects")
    best = _best_delimiter(lines)
    if best is None:
        return FormatGuess("text", why_format=f"no delimiter splits {len(content):,} lines into equal fields")
    delimiter, quoting, why_quoting = best
    records = parse_records(lines, delimiter, quoting)
    fields, share = _field_count(records)
    name = "tsv" if delimiter == "\t" else "csv"
    why_format = f"{share:.0%} of {len(records):,} records have {fields} {_delimiter_name(delimiter)}-separated fields"
    header, why_header = guess_header(records)
    return FormatGuess(name, delimiter, quoting, header, why_format, why_quoting, why_header)


def _is_json_object(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    try:
        return isinstance(strict_json.loads(line), dict)
    except strict_json.JsonError:
        return False


def parse_records(lines: Iterable[str], delimiter: str, quoting: str) -> list[list[str]]:
    """The non-blank records of ``lines`` as ingest's CSV reader splits them (a quoted field
    may span lines under ``minimal`` quoting); a record that breaks the quoting rules ends the
    list (the head was cut there, or the quoting is wrong)."""
    return _parsed(lines, delimiter, quoting)[0]


def _parsed(lines: Iterable[str], delimiter: str, quoting: str) -> tuple[list[list[str]], int]:
    """:func:`parse_records`, and the number of lines they were read from."""
    reader = csv.reader(
        (line + "\n" for line in lines),
        delimiter=delimiter,
        quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL,
        strict=True,
    )
    records: list[list[str]] = []
    try:
        records.extend(r for r in reader if r and (len(r) > 1 or r[0].strip()))
    except csv.Error:
        return records, max(reader.line_num - 1, 0)
    return records, reader.line_num


def _field_count(records: Sequence[Sequence[str]]) -> tuple[int, float]:
    """The most common number of fields, and the share of records that have it."""
    if not records:
        return 0, 0.0
    fields, count = Counter(len(r) for r in records).most_common(1)[0]
    return fields, count / len(records)


def _best_delimiter(lines: Sequence[str]) -> tuple[str, str, str] | None:
    """The delimiter (with its quoting and why) that splits the most records into equal
    numbers of fields, at least two; ``None`` when none does for :data:`CONSISTENT_SHARE`."""
    best: tuple[float, str, str, str] | None = None
    for delimiter in DELIMITERS:
        if not any(delimiter in line for line in lines):
            continue
        quoting, why = _quoting(lines, delimiter)
        share = _consistency(lines, delimiter, quoting)
        if share >= CONSISTENT_SHARE and (best is None or share > best[0]):
            best = (share, delimiter, quoting, why)
    return None if best is None else best[1:]


def _consistency(lines: Sequence[str], delimiter: str, quoting: str) -> float:
    """The share of records with the most common number of fields, when that is at least two
    and the records were read from nearly all of ``lines`` (else 0)."""
    records, read = _parsed(lines, delimiter, quoting)
    fields, share = _field_count(records)
    return share if fields >= 2 and read >= CONSISTENT_SHARE * len(lines) else 0.0


def _quoting(lines: Sequence[str], delimiter: str) -> tuple[str, str]:
    """``minimal`` or ``none`` for ``delimiter``-separated ``lines``, and why."""
    raw = [field for line in lines for field in line.split(delimiter)]
    opening = [f for f in raw if f.startswith('"')]
    unbalanced = [f for f in opening if len(f) < 2 or not f.endswith('"')]
    quoted = len(opening) - len(unbalanced)
    if delimiter == "\t":
        return _tsv_quoting(lines, opening)
    minimal, literal = (_consistency(lines, delimiter, q) for q in ("minimal", "none"))
    if opening and minimal < CONSISTENT_SHARE <= literal:
        return "none", "read as RFC 4180 quotes, the quotes break records; read as ordinary characters, they do not"
    return "minimal", f"{_count(quoted, 'field')} quoted (RFC 4180)" if quoted else "no field is quoted"


def _tsv_quoting(lines: Sequence[str], opening: Sequence[str]) -> tuple[str, str]:
    """A TSV's quoting: ``minimal`` only when some quoted field holds a tab or a line break
    (which only RFC 4180 quotes allow), else ``none``: a raw TSV, whose quotes are ordinary
    characters (a message may start with ``"`` and never close it)."""
    if not opening:
        return "none", "no field is quoted: a raw TSV, any quote is an ordinary character"
    records = parse_records(lines, "\t", "minimal")
    spanning = sum(any("\t" in f or "\n" in f for f in r) for r in records)
    if spanning and _consistency(lines, "\t", "minimal") >= CONSISTENT_SHARE:
        return "minimal", f"{_count(spanning, 'record')} with a quoted tab or line break (RFC 4180)"
    opened = _count(len(opening), "field")
    return "none", f"{opened} starting with a quote, none holding a tab or a line break: quotes are literal"


def guess_header(records: Sequence[Sequence[str]]) -> tuple[bool, str]:
    """Whether the first of ``records`` is a header row, and why."""
    if not records:
        return False, "no records"
    first, body = records[0], [r for r in records[1:] if len(r) == len(records[0])]
    odd = [k for k, f in enumerate(first) if not _name_like(f)]
    if odd:
        return False, f"first row is data: its field {odd[0]} is not a column name (empty, long or a number)"
    if len({f.strip() for f in first}) != len(first):
        return False, "first row repeats a value: not column names"
    if not body:
        return True, "one row of short, distinct names"
    for k, name in enumerate(first):
        why = _column_below_a_name(k, name, [r[k] for r in body])
        if why:
            return True, why
    return False, "first row looks like the rows below it"


def _column_below_a_name(k: int, name: str, column: Sequence[str]) -> str | None:
    """Why column ``k`` says its first value ``name`` is a name, or ``None``: numbers below it,
    a few values below that never include it, or long texts below a short word."""
    numeric = sum(bool(_NUMBER.fullmatch(v.strip())) for v in column)
    if numeric >= CONSISTENT_SHARE * len(column):
        return f"column {k} holds numbers below {_show(name)}"
    distinct = set(column)
    if len(column) >= 20 and len(distinct) <= 20 and name not in distinct:
        return f"column {k} holds {_count(len(distinct), 'distinct value')} below, never {_show(name)}"
    mean = sum(len(v) for v in column) / len(column)
    if len(name.strip()) <= 20 and mean >= max(30, 4 * len(name.strip())) and len(distinct) >= 0.9 * len(column):
        return f"column {k} holds texts of {mean:.0f} characters on average below {_show(name)}"
    return None


def _name_like(field: str) -> bool:
    value = field.strip()
    return 0 < len(value) <= 40 and value.count(" ") <= 3 and not _NUMBER.fullmatch(value) and value[-1] not in ".!?。"


def _count(n: int, noun: str) -> str:
    """``1 field``, ``2,179 fields``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _show(value: str) -> str:
    return repr(value if len(value) <= 24 else value[:21] + "...")


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[delimiter]
