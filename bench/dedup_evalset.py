"""A near-duplicate evaluation set from the shared corpora, its exact ground truth, and the
peer: datasketch's ``MinHashLSH`` on the same shingles and parameters.

Used by ``bench/dedup_bench.py`` and ``tests/spark/test_dedup_quality.py``.

**Documents.** Real texts: THUCNews titles (Chinese, ~20 characters; the corpus already repeats
some titles verbatim) and AG News descriptions (English, ~30 words), each kept with its source
label. A share of them get one to three *variants*, each made by one controlled edit:

* ``punct_space``: punctuation, spacing and case changed (the canonical form is unchanged:
  an exact duplicate);
* ``insert`` / ``delete`` / ``replace``: 1-3 characters (Chinese) or words (English);
* ``truncate``: the last 10-30 % cut off;
* ``traditional``: Simplified → Traditional Chinese with OpenCC (``s2t``), a different
  character sequence unless the canonical form folds it back (``dedup.exact.t2s``).

Every edit size lands at a different Jaccard level, so the set probes the whole S-curve.

**Truth.** Two documents are duplicates when the exact Jaccard of their shingle sets is at least
the threshold. :func:`true_pairs` computes it for *all* pairs at once as a sparse product
``X Xᵀ`` of the document × shingle incidence matrix (``|A ∩ B|`` for every pair sharing a
shingle), so no pair is assumed negative.

**Scores.** A method's predicted pairs are the pairs inside its clusters (both ours and the
peer's clusters are connected components of verified pairs); precision = predicted ∩ true /
predicted, recall = predicted ∩ true / true.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

PUNCT_ZH = "，。！？、；："
PUNCT_EN = ",.!?;:"
EDITS = ("punct_space", "insert", "delete", "replace", "truncate", "traditional")


def base_documents(corpora: Path, n_zh: int, n_en: int, seed: int) -> list[tuple[str, str, str]]:
    """``(text, lang, label)`` of ``n_zh`` THUCNews titles and ``n_en`` AG News descriptions
    (at most as many as there are), sampled with ``seed`` (titles keep their real repeats)."""
    rng = random.Random(seed)
    zh: list[tuple[str, str, str]] = []
    for name in ("dev.txt", "test.txt"):
        for line in (corpora / "thucnews_titles" / name).read_text(encoding="utf-8").splitlines():
            text, _, label = line.rpartition("\t")
            if text:
                zh.append((text, "zh", label))
    en: list[tuple[str, str, str]] = []
    with (corpora / "ag_news" / "test.csv").open(encoding="utf-8", newline="") as f:
        for label, _, description in csv.reader(f):
            if "\\" not in description and 15 <= len(description.split()) <= 60:
                en.append((description, "en", label))
    return rng.sample(zh, min(n_zh, len(zh))) + rng.sample(en, min(n_en, len(en)))


def _units(text: str, lang: str) -> list[str]:
    return list(text) if lang == "zh" else text.split()


def _join(units: Sequence[str], lang: str) -> str:
    return "".join(units) if lang == "zh" else " ".join(units)


def edit(text: str, lang: str, kind: str, rng: random.Random) -> str:
    """``text`` changed by one edit of ``kind`` (see the module docstring)."""
    units = _units(text, lang)
    k = rng.randint(1, 3)
    if kind == "punct_space":
        marks = PUNCT_ZH if lang == "zh" else PUNCT_EN
        out = text.upper() if lang == "en" and rng.random() < 0.5 else text
        return "  " + out.replace(" ", "  ") + rng.choice(marks) * rng.randint(1, 3)
    if kind == "insert":
        filler = list("的了是在有和") if lang == "zh" else ["very", "also", "new", "big", "the"]
        for _ in range(k):
            units.insert(rng.randrange(len(units) + 1), rng.choice(filler))
    elif kind == "delete":
        for _ in range(min(k, len(units) - 1)):
            del units[rng.randrange(len(units))]
    elif kind == "replace":
        filler = list("国家市场公司") if lang == "zh" else ["market", "company", "report", "week"]
        for _ in range(k):
            units[rng.randrange(len(units))] = rng.choice(filler)
    elif kind == "truncate":
        keep = max(1, round(len(units) * (1 - rng.uniform(0.1, 0.3))))
        units = units[:keep]
    elif kind == "traditional":
        import opencc

        return opencc.OpenCC("s2t").convert(text)
    return _join(units, lang)


def build(corpora: Path, n_zh: int, n_en: int, variant_share: float = 0.5, seed: int = 7) -> list[dict]:
    """The evaluation documents: ``id``, ``text``, ``lang``, ``label``, ``group`` (the base
    document it came from) and ``edit`` (``base`` or an edit kind)."""
    rng = random.Random(seed)
    docs: list[dict] = []
    for group, (text, lang, label) in enumerate(base_documents(corpora, n_zh, n_en, seed)):
        docs.append({"text": text, "lang": lang, "label": label, "group": group, "edit": "base"})
        if rng.random() >= variant_share:
            continue
        kinds = [k for k in EDITS if lang == "zh" or k != "traditional"]
        for kind in rng.sample(kinds, rng.randint(1, 3)):
            docs.append(
                {"text": edit(text, lang, kind, rng), "lang": lang, "label": label, "group": group, "edit": kind}
            )
    for index, doc in enumerate(docs):
        doc["id"] = f"e{index:07d}"
    return docs


def true_pairs(shingle_sets: Sequence[set[str]], threshold: float) -> set[tuple[int, int]]:
    """Every pair ``(i, j)``, ``i < j``, whose exact Jaccard is at least ``threshold``."""
    from scipy import sparse

    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for i, shingles in enumerate(shingle_sets):
        for s in shingles:
            rows.append(i)
            cols.append(vocabulary.setdefault(s, len(vocabulary)))
    n = len(shingle_sets)
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(vocabulary)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    union = sizes[inter.row] + sizes[inter.col] - inter.data
    keep = (union > 0) & (inter.data >= threshold * union)
    return set(zip(inter.row[keep].tolist(), inter.col[keep].tolist(), strict=True))


def pairs_in_clusters(clusters: Iterable[Iterable[int]]) -> set[tuple[int, int]]:
    """All ``(i, j)``, ``i < j``, inside each cluster."""
    return {pair for members in clusters for pair in combinations(sorted(members), 2)}


def precision_recall(predicted: set, truth: set) -> dict[str, float]:
    """Pair precision and recall (1.0 for an empty denominator)."""
    hit = len(predicted & truth)
    return {
        "precision": round(hit / len(predicted), 4) if predicted else 1.0,
        "recall": round(hit / len(truth), 4) if truth else 1.0,
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
    }


def datasketch_clusters(
    shingle_sets: Sequence[set[str]], threshold: float, num_perm: int, bands: int, seed: int = 1
) -> tuple[list[list[int]], int]:
    """The peer: datasketch ``MinHash`` per document, ``MinHashLSH(params=(bands, rows))``,
    every candidate verified by exact Jaccard, union-find over the kept pairs. Returns the
    clusters (lists of document indexes, singletons left out) and the candidate count."""
    from datasketch import MinHash, MinHashLSH

    rows = num_perm // bands
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(bands, rows))
    hashes = []
    for i, shingles in enumerate(shingle_sets):
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch([s.encode("utf-8") for s in shingles])
        hashes.append(m)
        if shingles:
            lsh.insert(i, m)
    kept: list[tuple[int, int]] = []
    candidates = 0
    for i, shingles in enumerate(shingle_sets):
        if not shingles:
            continue
        for j in lsh.query(hashes[i]):
            if j <= i:
                continue
            candidates += 1
            other = shingle_sets[j]
            inter = len(shingles & other)
            if inter >= threshold * (len(shingles) + len(other) - inter):
                kept.append((i, j))
    return union_find_clusters(len(shingle_sets), kept), candidates


def compare_with_datasketch(rows: Sequence, settings) -> dict[str, dict]:
    """Score silver ``rows`` (with ``id``, ``text``, ``lang``, ``tokens``, ``dup_cluster``,
    after the dedup job) and datasketch on the same shingle sets, threshold, num_perm and
    bands (``settings.dedup``): ``{"ours": …, "datasketch": …}`` with pair precision and
    recall against the exact truth, the peer's candidate count and in-memory seconds."""
    import time

    near = settings.dedup.near
    sets = shingle_sets(rows, settings)
    truth = true_pairs(sets, near.threshold)
    index = {r.id: i for i, r in enumerate(rows)}
    clusters: dict[str, list[int]] = {}
    for r in rows:
        if r.dup_cluster is not None:
            clusters.setdefault(r.dup_cluster, []).append(index[r.id])
    started = time.perf_counter()
    peer_clusters, candidates = datasketch_clusters(sets, near.threshold, near.num_perm, near.bands)
    seconds = time.perf_counter() - started
    return {
        "ours": precision_recall(pairs_in_clusters(clusters.values()), truth),
        "datasketch": {
            **precision_recall(pairs_in_clusters(peer_clusters), truth),
            "candidate_pairs": candidates,
            "seconds_in_memory": round(seconds, 3),
        },
    }


def shingle_sets(rows: Sequence, settings) -> list[set[str]]:
    """The shingle set of each silver row, exactly as the dedup job builds it."""
    from refinery.dedup.flags import dedup_options
    from refinery.text.shingles import shingles

    options = dedup_options(settings.dedup).shingles
    return [shingles(r.text, r.lang, None if r.tokens is None else list(r.tokens), options) for r in rows]


def union_find_clusters(n: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components (of two or more members) of ``n`` items linked by ``pairs``."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [members for members in groups.values() if len(members) > 1]
