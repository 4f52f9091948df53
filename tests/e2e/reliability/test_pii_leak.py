"""PII leak audit (issue 9, part 5): the whole pipeline, at DEBUG log level, over the PII test
corpora (Presidio's recogniser cases, the Chinese cases), 300 SMS messages (labelled rows, so
score, rebalance and select have work) and a source of broken records carrying PII (so ingest
quarantines them); one run shared with the bad-input audit, whose sources ride along
(:mod:`tests.support.audit_run`). Then every original PII string of the cases is searched for:

* everywhere that must never hold text: the process's logs (stdout and stderr), every column
  of ``metrics`` (maps included), quarantine's ``reason`` and ``detail``, the HTML report's
  text outside its quality examples (its plots are PNG pixels, skipped) — every positive
  string of every case;
* in the masked text of its own row (silver ``text`` and ``tokens``, gold, the review queue
  and its export files, clean's quarantine payload, the report's quality examples, each of
  which must be its silver row's text) — the positives our recognisers claim (the scope
  ``bench/pii_bench.py`` scores, where recall is 1.0);
* in ingest's quarantine payloads, with ``ingest.payload_mask: true``.

* in silver's ``meta``, row by row: the cases' other columns, whose ``span_texts`` are the PII
  strings themselves, masked by ``clean.pii.meta``.

Zero hits everywhere.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from pyspark.sql import functions as F

from bench.pii_bench import CN_EXCLUDED, PRESIDIO_EXCLUDED_ROWS, PRESIDIO_MAP
from refinery.spark.tables import read_table, table_exists
from tests.support.audit_run import BAD_RECORDS, CN, PRESIDIO, AuditRun
from tests.support.paths import corpora_dir
from tests.support.report_page import parse_report

#: Shorter gold strings ("Dan", "::", "M1 1AA"-like) occur by chance in counts, ids and names.
MIN_CHARS = 6
#: Independent extractors of the PII substrings of the Chinese ``text_count`` rows (they give
#: counts, no offsets); a row is used only when the extractor finds exactly the expected count.
CN_EXTRACT = {
    "CN_PHONE_NUMBER": r"(?:\+86 ?)?1[0-9]{2}-?[0-9]{4}-?[0-9]{4}",
    "CN_ID_CARD": r"[0-9]{17}[0-9Xx]|[0-9]{4}(?: {1,2}[0-9]{4}){3} {1,2}[0-9]{2}",
    "CN_BANK_CARD": r"[0-9]{4}(?: {1,2}[0-9]{4}){3}|[0-9]{16}",
    "CN_PASSPORT": r"[A-Z][0-9]{8}",
    "CN_EMAIL": r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z]+)+",
}
#: The PII strings of :data:`BAD_RECORDS` (their quarantine payloads must be masked).
BAD_PII = [
    "13912345678",
    "zhang.wei@example.com",
    "110101199001011237",
    "6222 0202 0000 1234 562",
    "203.0.113.77",
    "https://u:hunter22@h.example.com/x",
    "E12345678",
    "+44 20 7946 0958",
]


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _presidio_excluded(row: dict) -> bool:
    return any(
        fn == row["test_function"] and text == row["text"] and all(row["params"].get(k) == v for k, v in params.items())
        for fn, text, params, _ in PRESIDIO_EXCLUDED_ROWS
    )


def gold_strings() -> tuple[set[str], dict[str, set[str]], dict[str, int]]:
    """(every positive PII string of the cases, case text → the positives our recognisers must
    mask in it, counts of what was used and skipped)."""
    everything: set[str] = set()
    masked: dict[str, set[str]] = {}
    counts = {"presidio_spans": 0, "presidio_in_scope": 0, "cn_text_rows": 0, "cn_validator_rows": 0, "cn_skipped": 0}
    for row in _load(corpora_dir() / PRESIDIO):
        entity = (row["entity"] or [None])[0]
        for text in row["span_texts"] or []:
            counts["presidio_spans"] += 1
            everything.add(text)
            mapping = PRESIDIO_MAP.get(entity)
            if mapping is not None and mapping.gold_type(text) is not None and not _presidio_excluded(row):
                masked.setdefault(row["text"], set()).add(text)
                counts["presidio_in_scope"] += 1
    for row in _load(corpora_dir() / CN):
        excluded = any(kind == row["kind"] and text == row["text"] for kind, text, _ in CN_EXCLUDED)
        if row["kind"] == "text_count" and row["expected_count"] > 0:
            found = re.findall(CN_EXTRACT[row["entity"][0]], row["text"])
            if len(found) != row["expected_count"]:
                counts["cn_skipped"] += 1
                continue
            everything.update(found)
            masked.setdefault(row["text"], set()).update(found)
            counts["cn_text_rows"] += 1
        elif row["kind"] == "validator_valid" and not excluded:
            everything.add(row["text"])
            counts["cn_validator_rows"] += 1
            # a bare D/S/P/C/W/L/H/M + 8 digits is masked only after a word like 护照 (by design)
            if not re.fullmatch(r"[DSPCWLHM][0-9]{8}", row["text"]):
                masked.setdefault(row["text"], set()).add(row["text"])
    return everything, masked, counts


def _variants(needle: str) -> set[str]:
    """The string as written and as normalization would write it (NFKC, spaces collapsed)."""
    folded = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", needle)).strip()
    return {needle, folded}


def hits(haystack: str, needles: set[str]) -> list[str]:
    return sorted(n for n in needles if any(v in haystack for v in _variants(n)))


def test_no_pii_string_leaks_from_a_debug_pipeline_run(spark, audit_run: AuditRun) -> None:
    everything, masked_by_text, counts = gold_strings()
    searchable = {s for s in everything if len(s.strip()) >= MIN_CHARS} | set(BAD_PII)
    assert counts["presidio_in_scope"] > 100 and counts["cn_text_rows"] >= 30 and counts["cn_skipped"] == 0, counts

    done, tables, folder = audit_run.done, audit_run.tables, audit_run.folder
    logs = done.stdout + done.stderr
    assert done.returncode == 0, logs[-4000:]

    found: dict[str, list[str]] = {}
    searched: dict[str, int] = {}

    def search(where: str, haystack: str, needles: set[str]) -> None:
        searched[where] = searched.get(where, 0) + len(needles)
        if leaked := hits(haystack, needles):
            found.setdefault(where, []).extend(leaked)

    # 1. Places that never hold text: every positive string.
    # Spark's own start-up warning names the machine's loopback address, one of the IP cases
    spark_host_lines = re.compile(r"^.*WARN Utils: Your hostname, .*$", re.MULTILINE)
    search("logs (stdout+stderr, DEBUG)", spark_host_lines.sub("", logs), searchable)
    metrics = read_table(spark, str(tables / "metrics"))
    as_text = [F.to_json(F.col(c)) if t.startswith("map") else F.col(c).cast("string") for c, t in metrics.dtypes]
    search(
        "metrics (every column)", "\n".join(str(v) for r in metrics.select(*as_text).collect() for v in r), searchable
    )
    quarantine = read_table(spark, str(tables / "quarantine"))
    reasons = quarantine.select("reason", "detail").collect()
    search("quarantine reason + detail", "\n".join(f"{r.reason}\t{r.detail}" for r in reasons), searchable)
    (report,) = (folder / "reports").glob("*/report.html")
    page = parse_report(report.read_text(encoding="utf-8"))
    # The page outside the quality section's examples holds no row text: every positive string.
    search("report (text outside the quality examples)", "\n".join(page.outside), searchable)

    # 2. Ingest's quarantine payloads, masked by ingest.payload_mask.
    bad = quarantine.where("stage = 'ingest' AND source = 'pii_bad'").collect()
    assert len(bad) == len(BAD_RECORDS) and all(r.payload for r in bad)
    search("ingest quarantine payload (payload_mask)", "\n".join(r.payload for r in bad), set(BAD_PII))
    assert any("[PHONE]" in r.payload for r in bad)

    # 3. Masked text, row by row: the positives of each case in its own row's text.
    bronze = read_table(spark, str(tables / "bronze")).where("source IN ('cn_pii_cases', 'presidio_cases')")
    needles_by_id = {
        r.id: masked_by_text[r.text] for r in bronze.select("id", "text").collect() if r.text in masked_by_text
    }
    assert len(needles_by_id) >= 100

    def search_rows(where: str, rows) -> None:
        checked = 0
        for row in rows:
            needles = needles_by_id.get(row[0])
            if needles:
                checked += 1
                search(where, "\n".join(str(v) for v in row[1:] if v is not None), needles)
        searched[f"{where} rows"] = checked

    silver = read_table(spark, str(tables / "silver"))
    search_rows("silver text + tokens", silver.select("id", "text", F.concat_ws(" ", "tokens")).collect())
    # the cases' other columns (span_texts: the PII itself) ride in meta, masked by clean.pii.meta
    search_rows("silver meta", silver.select("id", F.to_json("meta")).collect())
    search_rows("gold text", read_table(spark, str(tables / "gold")).select("id", "text").collect())
    if table_exists(spark, str(tables / "review_queue")):
        search_rows("review_queue text", read_table(spark, str(tables / "review_queue")).select("id", "text").collect())
    exported = [json.loads(line) for path in (folder / "exports").rglob("*.jsonl") for line in path.open()]
    search_rows("review export files", [(e["id"], e["text"]) for e in exported])
    clean_q = quarantine.where("stage = 'clean'").select("record_id", "payload").collect()
    search_rows("clean quarantine payload", clean_q)
    # The report's quality examples: each is its silver row's (masked) text, whole or cut short, so
    # it holds no more than that row, and that row's own positives are not in it.
    silver_text = {r.id: r.text for r in silver.select("id", "text").collect()}
    for example in page.examples:
        whole = silver_text[example.record_id]
        assert example.text == whole or (example.text.endswith("…") and whole.startswith(example.text[:-1]))
    search_rows("report quality examples", [(e.record_id, e.text) for e in page.examples])
    assert page.examples, "the cases hold digit-only and symbol-heavy texts: some quality rule flags them"
    print(f"PII strings: {len(searchable)} searched in the text-free places, {counts}")
    print("searched (string x place):", json.dumps(searched, ensure_ascii=False))
    assert searched["silver text + tokens rows"] >= 100 and searched["gold text rows"] >= 20
    assert searched["silver meta rows"] >= 100
    assert searched["review_queue text rows"] > 0 and searched["review export files rows"] > 0

    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
