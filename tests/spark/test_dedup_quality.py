"""Near-duplicate quality of the real dedup job against datasketch's MinHashLSH (the peer, same
shingles, same num_perm and bands) on an evaluation set built from the shared corpora with
controlled edits (``bench/dedup_evalset.py``): pair precision and recall each within 0.01 of
the peer or better, against exact Jaccard ground truth over all pairs."""

from __future__ import annotations

import json

from bench.dedup_evalset import build, compare_with_datasketch
from refinery.runtime.runner import new_run_id, run_one
from refinery.spark.tables import read_table
from tests.support.paths import corpora_dir
from tests.support.spark_helpers import ingest


def test_near_duplicate_pairs_match_datasketch(spark, make_settings, tmp_path):
    docs = build(corpora_dir(), n_zh=700, n_en=400, variant_share=0.5, seed=11)
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    spec = "ingest.sources.eval."
    settings = make_settings(
        "ingest.only=[eval]",
        f"{spec}path={path}",
        f"{spec}format=jsonl",
        f"{spec}columns={{text: text, label: label, id: id}}",
    )
    ingest(spark, settings)
    for job in ("clean", "dedup"):
        assert run_one(job, settings, spark, new_run_id(job)) == 0
    rows = read_table(spark, settings.tables.silver).orderBy("id").collect()
    assert len(rows) > 0.98 * len(docs)

    scored = compare_with_datasketch(rows, settings)
    ours, peer = scored["ours"], scored["datasketch"]

    assert ours["true_pairs"] > 300, "the evaluation set must hold many true pairs"
    assert ours["recall"] >= peer["recall"] - 0.01, (ours, peer)
    assert ours["precision"] >= peer["precision"] - 0.01, (ours, peer)
    assert ours["recall"] > 0.9 and ours["precision"] > 0.9, ours
