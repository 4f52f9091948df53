"""``refinery inspect --check``: the proposed stanza, restricted to a sample of the input, goes
through the real ``ingest`` job on real Delta tables, and the counts come back by reason, with
record ids for examples and never a text. One ingest run (the SMS corpus and a file of the same
shape with a few bad lines, inspected as one source) serves every test."""

from __future__ import annotations

from pathlib import Path

import pytest

from refinery.inspect.check import CheckResult, check_settings, report_lines, run_check
from refinery.sources.sniff import sniff
from tests.support.paths import ROOT, corpora_dir

SMS_ROWS = 200
GOOD = [f"{'spam' if k % 4 == 0 else 'ham'}\tcall me back about the room {k} when you can" for k in range(30)]
#: lines 12 and 24 have no text, line 13 one field too many (line 1 is the header)
BAD = ["Label\tSMS", *GOOD[:10], "ham\t", "spam\tone\ttoo many", *GOOD[10:20], "ham\t   ", *GOOD[20:]]


@pytest.fixture(scope="module")
def checked(spark, tmp_path_factory) -> tuple[CheckResult, list[str]]:
    folder = tmp_path_factory.mktemp("inspect_check")
    bad = folder / "input" / "bad.tsv"
    bad.parent.mkdir()
    bad.write_text("\n".join(BAD) + "\n", encoding="utf-8")
    proposal = sniff([str(corpora_dir() / "sms_spam_collection" / "SMSSpamCollection"), str(bad)])
    records = 2 * SMS_ROWS  # shared by the two files: the first 200 of each
    settings = check_settings(
        proposal.files,
        proposal.settings,
        "sms_check",
        str(ROOT / "conf" / "local.yaml"),
        str(folder / "check"),
        records,
    )
    return run_check(settings, "sms_check", spark), settings.ingest.sources["sms_check"].path


def test_the_sample_is_the_head_of_each_file_under_its_own_name(checked):
    _, paths = checked
    assert [Path(p).name for p in paths] == ["SMSSpamCollection", "bad.tsv"]
    assert Path(paths[0]).read_bytes().count(b"\n") == SMS_ROWS + 1  # and its header


def test_the_corpus_rows_reach_bronze_with_both_labels(checked):
    result, _ = checked
    assert result.exit_code == 0
    good = SMS_ROWS + len(GOOD)
    assert (result.rows_read, result.bronze_rows, result.filtered) == (good + 3, good, {})
    assert set(result.labels) == {"ham", "spam"} and sum(result.labels.values()) == good


def test_bad_lines_are_counted_by_reason_with_ids_and_no_text(checked):
    result, _ = checked
    assert result.quarantined == {"empty_text": 2, "malformed_record": 1}
    assert result.examples == {"empty_text": ["bad.tsv:12", "bad.tsv:24"], "malformed_record": ["bad.tsv:13"]}
    report = "\n".join(report_lines(result))
    assert "empty_text: 2 (e.g. bad.tsv:12, bad.tsv:24)" in report
    assert "call me" not in report and "too many" not in report
