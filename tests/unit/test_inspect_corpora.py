"""``refinery inspect`` on every corpus of ``conf/corpora.yaml`` proposes what the hand-written
stanza says (issue 23, item 4): format, encoding and fallback, header, quoting, delimiter, the
text / label / id columns, label_from_path and the raw label set (the keys of ``label_map``
where there is one, else ``labels``). Where a corpus cannot be inferred from its files, the
field is listed in :data:`EXPECTED_TO_DIFFER` with the reason, and the test asserts it does
differ, so that a better guess shows up here."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import pytest
import yaml

from refinery.config import load_settings
from refinery.ingest.settings import SourceSettings
from refinery.inspect.stanza import render_config
from refinery.sources.records import label_from_path
from refinery.sources.sniff import Proposal, sniff
from tests.support.paths import ROOT, corpora_dir

HAND_WRITTEN: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "conf" / "corpora.yaml").read_text(encoding="utf-8"))[
    "ingest"
]["sources"]

#: (source, field) → why inspect cannot propose the hand-written value.
EXPECTED_TO_DIFFER = {
    ("tatoeba", "label set"): (
        "the hand-written stanza leaves the languages open (no labels); inspect lists the 10 language "
        "codes it sees, one per file of the glob"
    ),
    ("zh_en_mixed", "label set"): (
        "the hand-written stanza leaves source_label open (a language, a news category or a 0/1 "
        "sentiment, depending on the row's origin); inspect lists the values its sample holds"
    ),
}


def _paths(name: str) -> list[str]:
    path = HAND_WRITTEN[name]["path"]
    return [str(corpora_dir() / p) for p in ([path] if isinstance(path, str) else path)]


def _fields(spec: SourceSettings, raw_labels: set[str], files: list[str]) -> dict[str, Any]:
    """What the acceptance compares of a source."""
    return {
        "format": spec.format,
        "encoding": spec.encoding,
        "fallback_encoding": spec.fallback_encoding,
        "header": spec.header,
        "quoting": spec.quoting,
        "delimiter": spec.delimiter,
        "columns.text": spec.columns.text,
        "columns.label": spec.columns.label,
        "columns.id": spec.columns.id,
        "label_from_path": {Path(f).name: label_from_path(f, spec.label_from_path) for f in files},
        "label set": raw_labels,
        "label_required": spec.label_required,
    }


def _hand_fields(name: str, files: list[str]) -> dict[str, Any]:
    stanza = {k: v for k, v in HAND_WRITTEN[name].items() if k != "enabled"}
    spec = SourceSettings.model_validate(stanza)
    raw = set(spec.label_map) if spec.label_map else set(spec.labels or [])
    return _fields(spec, raw, files)


def _proposed_fields(proposal: Proposal, files: list[str]) -> dict[str, Any]:
    spec = SourceSettings.model_validate(proposal.settings)
    return _fields(spec, set(spec.labels or []), files)


@pytest.fixture(scope="module")
def proposals() -> dict[str, Proposal]:
    return {name: sniff(_paths(name)) for name in HAND_WRITTEN if all(glob.glob(p) for p in _paths(name))}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_inspect_proposes_the_hand_written_stanza(name: str, proposals: dict[str, Proposal]):
    if name not in proposals:
        pytest.skip(f"{name}: its input is not under {corpora_dir()}")
    proposal = proposals[name]
    got, want = _proposed_fields(proposal, proposal.files), _hand_fields(name, proposal.files)
    for field, expected in want.items():
        if (name, field) in EXPECTED_TO_DIFFER:
            assert got[field] != expected, f"{name}.{field} now matches: drop it from EXPECTED_TO_DIFFER"
        else:
            assert got[field] == expected, f"{name}.{field}: inspect proposes {got[field]!r}, not {expected!r}"


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_the_printed_yaml_loads_as_the_proposed_source(name: str, proposals: dict[str, Proposal], tmp_path: Path):
    """The whole printed file goes through the project's loader (extends, only, validation)."""
    if name not in proposals:
        pytest.skip(f"{name}: its input is not under {corpora_dir()}")
    source = f"inspected_{name}"  # not a name of corpora.yaml, whose stanza would merge into it
    config = tmp_path / "my.yaml"
    config.write_text(render_config(proposals[name], source, str(ROOT / "conf" / "local.yaml")), encoding="utf-8")
    settings = load_settings([config])
    assert settings.ingest.only == [source]
    assert settings.ingest.sources[source] == SourceSettings.model_validate(proposals[name].settings)
    assert settings.spark.mode == "local"  # conf/local.yaml was extended
