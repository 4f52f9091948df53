"""``refinery inspect``'s guesses on small files with one tricky trait each: a header or none,
quoted CSV fields holding commas and newlines, TSV with literal quotes, Windows-1252, mostly
UTF-8 with stray bytes, JSONL with nested fields, gzip, Parquet and Delta, labels in file
names; and the bounds on what it reads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from refinery.cli import main
from refinery.ingest.settings import SourceSettings
from refinery.inspect.stanza import scalar
from refinery.sources.sniff import SniffError, sniff, source_name
from refinery.sources.sniff_head import HEAD_LINES, PROBE_BYTES, PROBES, read_head

_KINDS = [
    ("1", "The room was clean and the staff were friendly and we would stay again"),
    ("0", "Noisy at night and the breakfast was cold every single morning"),
    ("1", "Great location five minutes from the station and the old town"),
    ("0", "The shower leaked and nobody came to fix it in three days"),
]
REVIEWS = [(label, f"{text} (stay {k})") for k, (label, text) in enumerate(_KINDS * 10)]


def _write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_a_csv_with_a_header_maps_columns_by_name(tmp_path: Path):
    rows = "".join(f"{label},{text}\n" for label, text in REVIEWS)
    proposal = sniff([_write(tmp_path / "r.csv", "label,review\n" + rows)])
    assert proposal.settings["format"] == "csv" and proposal.settings["header"] is True
    assert proposal.settings["columns"] == {"text": "review", "label": "label"}
    assert proposal.settings["labels"] == ["0", "1"]


def test_a_csv_without_header_maps_columns_by_index_and_content(tmp_path: Path):
    rows = "".join(f"{label},{text}\n" for label, text in REVIEWS)
    proposal = sniff([_write(tmp_path / "r.csv", rows)])
    assert "header" not in proposal.settings
    assert proposal.settings["columns"] == {"text": 1, "label": 0}
    assert "2 distinct values" in proposal.why["labels"]


def test_a_header_over_text_columns_only_is_found_by_the_lengths_below_it(tmp_path: Path):
    rows = "".join(f'"Title {k}","{text}"\n' for k, (_, text) in enumerate(REVIEWS))
    proposal = sniff([_write(tmp_path / "docs.csv", "title,body\n" + rows)])
    assert proposal.settings["header"] is True and "texts of" in proposal.why["header"]
    assert proposal.settings["columns"] == {"text": "body"}


def test_quoted_csv_fields_may_hold_commas_and_newlines(tmp_path: Path):
    rows = "".join(f'{label},"{text}, really.\nSecond line: ""quoted"", too"\n' for label, text in REVIEWS)
    proposal = sniff([_write(tmp_path / "q.csv", "label,review\n" + rows)])
    assert proposal.settings["format"] == "csv"
    assert "quoting" not in proposal.settings  # RFC 4180 quotes (minimal, the default)
    assert proposal.settings["columns"] == {"text": "review", "label": "label"}
    assert proposal.records == len(REVIEWS)  # one record per review, not per line


def test_headerless_csv_with_two_text_columns_side_by_side_joins_them(tmp_path: Path):
    rows = "".join(f'"{label}","Title {k}: {text[:12]}","{text} ({k})"\n' for k, (label, text) in enumerate(REVIEWS))
    proposal = sniff([_write(tmp_path / "news.csv", rows)])
    assert proposal.settings["columns"] == {"text": [1, 2], "label": 0}


def test_a_tsv_with_literal_quotes_reads_them_as_characters(tmp_path: Path):
    lines = [f'spam\t"{text}' if k % 5 == 0 else f"ham\t{text}" for k, (_, text) in enumerate(REVIEWS)]
    rows = "\n".join(lines) + "\n"
    proposal = sniff([_write(tmp_path / "sms.tsv", rows)])
    assert proposal.settings["format"] == "tsv" and proposal.settings["quoting"] == "none"
    assert "8 fields starting with a quote" in proposal.why["quoting"]


def test_a_tsv_whose_quoted_fields_hold_tabs_keeps_rfc_quotes(tmp_path: Path):
    rows = "".join(f'{label}\t"{text}\twith a tab"\n' for label, text in REVIEWS)
    proposal = sniff([_write(tmp_path / "quoted.tsv", rows)])
    assert proposal.settings["format"] == "tsv" and "quoting" not in proposal.settings


def test_windows_1252_text_is_named(tmp_path: Path):
    lines = [f"a plain sentence about a film number {k}" for k in range(40)]
    lines[7] = "it\u2019s a na\u00efve, charming caf\u00e9 comedy \u2014 really"
    proposal = sniff([_write(tmp_path / "reviews.txt", "\n".join(lines) + "\n", "cp1252")])
    assert proposal.settings["format"] == "text"
    assert proposal.settings["encoding"] == "cp1252" and "fallback_encoding" not in proposal.settings
    assert proposal.settings["label_required"] is False


def test_mostly_utf8_with_stray_bytes_gets_a_latin1_fallback(tmp_path: Path):
    rows = [f"positive,caf\u00e9 review {k} \u2014 nice".encode() for k in range(30)]
    rows += [b"negative,broken \x81\x8d byte review"]
    (tmp_path / "mixed.csv").write_bytes(b"sentiment,text\n" + b"\n".join(rows) + b"\n")
    proposal = sniff([str(tmp_path / "mixed.csv")])
    assert (proposal.settings["encoding"], proposal.settings["fallback_encoding"]) == ("utf-8", "latin-1")
    assert proposal.why["encoding"].startswith("1 of 32 lines are not UTF-8")


def test_jsonl_names_top_level_keys_and_never_a_nested_object(tmp_path: Path):
    records = [
        {
            "review_id": f"r{k}",
            "user": {"name": "someone", "about": "a long nested description that is not the text " * 3},
            "body": f"{text} ({k})",
            "stars": int(label) * 4 + 1,
            "created_at": f"2026-01-{k % 28 + 1:02d}T10:00:00",
        }
        for k, (label, text) in enumerate(REVIEWS)
    ]
    path = _write(tmp_path / "reviews.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    proposal = sniff([path])
    assert proposal.settings["format"] == "jsonl"
    columns = {"text": "body", "label": "stars", "id": "review_id", "event_ts": "created_at"}
    assert proposal.settings["columns"] == columns
    assert proposal.settings["labels"] == ["1", "5"]


def test_jsonl_without_a_label_name_proposes_no_label(tmp_path: Path):
    records = [{"kind": ["a", "b"][k % 2], "text": f"{text} {k}"} for k, (_, text) in enumerate(REVIEWS)]
    proposal = sniff([_write(tmp_path / "cases.jsonl", "".join(json.dumps(r) + "\n" for r in records))])
    assert proposal.settings["columns"] == {"text": "text"}
    assert proposal.settings["label_required"] is False


def test_gzip_reads_as_the_plain_file_does(tmp_path: Path):
    text = "label,review\n" + "".join(f"{label},{body}\n" for label, body in REVIEWS)
    plain = sniff([_write(tmp_path / "r.csv", text)])
    with gzip.open(tmp_path / "r.csv.gz", "wt", encoding="utf-8") as out:
        out.write(text)
    packed = sniff([str(tmp_path / "r.csv.gz")])
    assert {k: v for k, v in packed.settings.items() if k != "path"} == {
        k: v for k, v in plain.settings.items() if k != "path"
    }


def test_text_files_that_differ_by_a_suffix_give_label_from_path(tmp_path: Path):
    for suffix in ("pos", "neg"):
        _write(tmp_path / f"rt-polarity.{suffix}", "".join(f"{text}\n" for _, text in REVIEWS))
    proposal = sniff([str(tmp_path / "rt-polarity.*")])
    assert proposal.settings["label_from_path"] == r"rt-polarity\.(neg|pos)$"
    assert proposal.settings["labels"] == ["neg", "pos"]
    assert source_name([str(tmp_path / "rt-polarity.*")]) == "rt_polarity"


def test_parquet_and_delta_are_read_by_their_columns(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": k, "content": text, "category": label} for k, (label, text) in enumerate(REVIEWS)]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "data.parquet")
    (tmp_path / "table" / "_delta_log").mkdir(parents=True)
    pq.write_table(table, tmp_path / "table" / "part-0000.snappy.parquet")
    for path, form in ((tmp_path / "data.parquet", "parquet"), (tmp_path / "table", "delta")):
        proposal = sniff([str(path)])
        assert proposal.settings["format"] == form
        assert proposal.settings["columns"] == {"text": "content", "label": "category", "id": "id"}


def test_a_head_is_bounded_by_lines_and_probes_by_bytes(tmp_path: Path):
    line = "1\t" + "x" * 200 + "\n"
    path = _write(tmp_path / "big.tsv", line * 20_000)  # 4 MiB
    head = read_head(path)
    assert head.head.count(b"\n") == HEAD_LINES and not head.whole
    assert len(head.probes) == PROBES and all(len(p) <= PROBE_BYTES for p in head.probes)
    assert head.probes[-1].endswith(line.encode())  # the last probe reaches the end of the file
    with gzip.open(tmp_path / "big.tsv.gz", "wt") as out:
        out.write(line * 20_000)
    packed = read_head(str(tmp_path / "big.tsv.gz"))
    assert packed.head == head.head and packed.probes == () and packed.compression == "gzip"


def test_nothing_at_the_path_is_an_error(tmp_path: Path):
    with pytest.raises(SniffError, match="nothing at"):
        sniff([str(tmp_path / "missing.csv")])


def test_utf16_without_a_byte_order_mark_is_left_to_auto(tmp_path: Path):
    rows = "label\treview\n" + "".join(f"{label}\t{text}\n" for label, text in REVIEWS)
    proposal = sniff([_write(tmp_path / "wide.tsv", rows, "utf-16-le")])
    assert "encoding" not in proposal.settings and proposal.why["encoding"] == "auto detects utf-16-le"
    assert proposal.settings["columns"] == {"text": "review", "label": "label"}


def test_a_binary_file_is_refused(tmp_path: Path):
    (tmp_path / "blob.dat").write_bytes(bytes(range(256)) * 64)
    with pytest.raises(SniffError, match="NUL bytes"):
        sniff([str(tmp_path / "blob.dat")])


def test_labels_that_look_like_numbers_stay_strings_in_the_yaml():
    assert yaml.safe_load(scalar(["0", "1"])) == ["0", "1"]
    assert yaml.safe_load(scalar(r"rt-polarity\.(neg|pos)$")) == r"rt-polarity\.(neg|pos)$"


def test_the_command_prints_a_config_that_loads(tmp_path: Path, capsys, monkeypatch):
    rows = "".join(f"{label},{text}\n" for label, text in REVIEWS)
    _write(tmp_path / "my_reviews.csv", "label,review\n" + rows)
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", "my_reviews.csv", "--name", "mine"]) == 0
    out = capsys.readouterr().out
    (tmp_path / "my.yaml").write_text(out, encoding="utf-8")
    config = yaml.safe_load(out)
    assert Path(config["extends"]).name == "local.yaml" and (tmp_path / config["extends"]).is_file()
    assert config["ingest"]["only"] == ["mine"] and config["ingest"]["input_root"] == "."
    source = SourceSettings.model_validate(config["ingest"]["sources"]["mine"])
    assert source.path == "my_reviews.csv" and source.columns.text == "review"


def test_bad_arguments_exit_2(tmp_path: Path, capsys):
    assert main(["inspect"]) == 2
    assert main(["inspect", str(tmp_path / "missing.csv")]) == 2
    assert main(["inspect", str(tmp_path), "--lines", "0"]) == 2
    assert "nothing at" in capsys.readouterr().err
