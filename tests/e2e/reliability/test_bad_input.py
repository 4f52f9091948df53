"""Bad-input corpus (issue 9, part 1): every job of the pipeline over 50-odd kinds of malformed
input (:mod:`tests.support.bad_inputs`, one ingest source per kind) plus 300 labelled SMS
messages, as one ``refinery pipeline`` process (shared with the PII leak audit, whose sources
ride along: :mod:`tests.support.audit_run`). Nothing may crash and every record must end in
exactly one place:

* the run exits 0 and every job wrote its ``metrics`` rows, each of which reconciles
  (``rows_in = rows_out + quarantined + filtered``, the reason maps summing to their totals);
* per kind, ``ingest/<source>`` counted the generator's records and split them as expected;
* ingest: each input record is one bronze or ingest-quarantine row (its file and line unique
  across both) or one counted filter, the totals add up to the records written, and the
  quarantine table holds per source and reason what the metrics say;
* clean: every bronze id is in silver or clean's quarantine, never both, never neither;
* gold and the review queue hold silver rows only, each once (gold: once per copy);
* the 1 MB of PII-like digits reached clean and left it masked.
"""

from __future__ import annotations

import json
from collections import Counter

from refinery.runtime.runner import JOBS
from refinery.spark.tables import read_table, table_exists
from tests.support.audit_run import SMS_MESSAGES, AuditRun
from tests.support.bad_inputs import PII_GROUPS


def split(row) -> dict[str, int]:
    """A metrics row's outcome split in :class:`BadKind`'s ``expected`` form."""
    counts = {"ok": row.rows_out}
    counts |= {f"quarantine:{reason}": n for reason, n in (row.quarantined_by_reason or {}).items()}
    counts |= {f"filter:{reason}": n for reason, n in (row.filtered_by_reason or {}).items()}
    return {key: n for key, n in counts.items() if n}


def test_every_job_survives_the_bad_input_corpus(spark, audit_run: AuditRun) -> None:
    kinds = audit_run.kinds
    assert len(kinds) >= 30 and len({kind.source for kind in kinds}) == len(kinds)
    done = audit_run.done
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    tables = audit_run.tables

    # Every job ran and every stage of every job reconciles.
    metrics = read_table(spark, str(tables / "metrics")).collect()
    assert {row.job for row in metrics} >= set(JOBS), sorted({row.job for row in metrics})
    unbalanced = [
        (row.job, row.stage, row.rows_in, row.rows_out, row.rows_quarantined, row.rows_filtered)
        for row in metrics
        if not (
            row.reconciled
            and row.rows_in == row.rows_out + row.rows_quarantined + row.rows_filtered
            and row.rows_quarantined == sum((row.quarantined_by_reason or {}).values())
            and row.rows_filtered == sum((row.filtered_by_reason or {}).values())
        )
    ]
    assert not unbalanced, unbalanced
    stages = {(row.job, row.stage): row for row in metrics}

    # Per kind: ingest counted the generator's records and split them as expected.
    wrong = {}
    for kind in kinds:
        row = stages[("ingest", f"ingest/{kind.source}")]
        if row.rows_in != kind.records or (kind.expected is not None and split(row) != kind.expected):
            wrong[kind.name] = {"records": (row.rows_in, kind.records), "got": split(row), "expected": kind.outcome}
    assert not wrong, json.dumps(wrong, indent=1)
    assert stages[("ingest", "ingest/sms_spam")].rows_in == SMS_MESSAGES
    print("kinds:", json.dumps({kind.name: split(stages[("ingest", f"ingest/{kind.source}")]) for kind in kinds}))

    # Ingest: one place per input record, located by file and line.
    # (the PII audit's sources, in the same run, counted from their files as ingest counts them)
    total = SMS_MESSAGES + sum(kind.records for kind in kinds) + audit_run.pii_records
    ingest = stages[("ingest", "ingest")]
    assert ingest.rows_in == total
    bronze = read_table(spark, str(tables / "bronze")).select("id", "source_path", "source_line").collect()
    quarantine = read_table(spark, str(tables / "quarantine"))
    ingest_q = quarantine.where("stage = 'ingest'").select("source", "reason", "source_path", "source_line").collect()
    places = Counter((r.source_path, r.source_line) for r in [*bronze, *ingest_q])
    assert not [place for place, n in places.items() if n > 1]
    assert len(bronze) == ingest.rows_out and len(ingest_q) == ingest.rows_quarantined
    # the quarantine table holds exactly what each source's metrics say it quarantined
    per_source = {
        (stage.split("/", 1)[1], reason): n
        for (job, stage), row in stages.items()
        if job == "ingest" and stage.startswith("ingest/")
        for reason, n in (row.quarantined_by_reason or {}).items()
        if n
    }
    assert Counter((r.source, r.reason) for r in ingest_q) == per_source
    assert len(bronze) + len(ingest_q) + ingest.rows_filtered == total

    # Clean: every bronze id in exactly one of silver and clean's quarantine.
    bronze_ids = [r.id for r in bronze]
    silver = read_table(spark, str(tables / "silver"))
    silver_ids = [r.id for r in silver.select("id").collect()]
    clean_q = [r.record_id for r in quarantine.where("stage = 'clean'").select("record_id").collect()]
    clean = stages[("clean", "clean")]
    assert len(set(bronze_ids)) == len(bronze_ids) and len(set(silver_ids)) == len(silver_ids)
    assert len(set(clean_q)) == len(clean_q) and not set(silver_ids) & set(clean_q)
    assert set(silver_ids) | set(clean_q) == set(bronze_ids)
    assert len(bronze_ids) == len(silver_ids) + len(clean_q) + clean.rows_filtered == clean.rows_in

    # Gold and the review queue: silver rows only, each once (gold: once per copy).
    gold = read_table(spark, str(tables / "gold")).select("id", "copy_index").collect()
    assert gold and {r.id for r in gold} <= set(silver_ids)
    assert len({(r.id, r.copy_index) for r in gold}) == len(gold)
    assert table_exists(spark, str(tables / "review_queue"))
    queued = [r.id for r in read_table(spark, str(tables / "review_queue")).select("id").collect()]
    assert queued and set(queued) <= set(silver_ids) and len(set(queued)) == len(queued)

    # The megabyte of PII-like digits was masked by clean, not dropped on the way.
    (pii_text,) = [r.text for r in silver.where("source = 'bad_pii_digits_1mb'").select("text").collect()]
    assert len(pii_text) > 100_000
    digits = {"".join(c for c in group if c.isdigit()) for group in PII_GROUPS}
    assert not [d for d in digits if d in "".join(c for c in pii_text if c.isdigit())]
