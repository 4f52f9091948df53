"""Train the Latin-script n-gram model of the short-text language vote and write its artifact.

    .venv/bin/python scripts/train_latin_langid.py [--corpora DIR] [--out PATH] [--check]

Data: Tatoeba sentences (https://tatoeba.org, CC BY 2.0 FR; attribute Tatoeba and the sentence
ids) as sampled by Tatoeba/tatodet into ``$REFINERY_CORPORA/tatoeba_tatodet/<lang>_1000.csv``
(see that folder's SOURCE.txt), for the seven Latin-script languages of
:data:`refinery.text.latin_ngrams.LANGUAGES`. Only the *dev* rows 200–999 of each file are
read: rows 0–199 are the held-out split that ``bench/langid_bench.py`` and the tests report,
and ``testset.csv`` is never read (it shares 104 sentence ids with the ``*_1000.csv`` files).

The model is a count table (:func:`refinery.text.latin_ngrams.count_ngrams`): no sampling, no
random initialisation, so there is no seed to fix and the output is byte-for-byte the same on
every run (sorted keys, integer counts). Without ``--out`` it rewrites the shipped artifact
(``libs/refinery/text/models/latin_ngrams.json``); ``--check`` only compares and exits 1 when
the shipped file differs from what the corpus gives.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "libs"))

from refinery.text import latin_ngrams  # noqa: E402
from refinery.text.langcodes import ISO639_3_TO_1  # noqa: E402

#: Rows 0..HELD_OUT_ROWS-1 of every file are held out (never trained on).
HELD_OUT_ROWS = 200
SHIPPED = ROOT / "libs" / "refinery" / "text" / latin_ngrams.ARTIFACT
DEFAULT_CORPORA = Path(os.environ.get("REFINERY_CORPORA", ROOT.parent / "shared" / "corpora"))


def dev_rows(corpora: Path) -> list[tuple[str, str]]:
    """``(ISO 639-1 code, sentence)`` of rows 200–999 of each Latin-script language's file."""
    rows = []
    wanted = {code3: code1 for code3, code1 in ISO639_3_TO_1.items() if code1 in latin_ngrams.LANGUAGES}
    for path in sorted((corpora / "tatoeba_tatodet").glob("*_1000.csv")):
        code3 = path.name.split("_", 1)[0]
        if code3 not in wanted:
            continue
        for row, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if row < HELD_OUT_ROWS:
                continue
            _, code, text = line.split("\t", 2)
            rows.append((ISO639_3_TO_1[code], text))
    return rows


def build(corpora: Path) -> str:
    """The artifact's JSON text from the corpus."""
    rows = dev_rows(corpora)
    if {lang for lang, _ in rows} != set(latin_ngrams.LANGUAGES):
        raise SystemExit(f"tatoeba files missing under {corpora}: need {latin_ngrams.LANGUAGES}")
    return latin_ngrams.to_artifact(latin_ngrams.count_ngrams(rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--out", type=Path, default=SHIPPED)
    parser.add_argument("--check", action="store_true", help="compare with the shipped artifact; write nothing")
    args = parser.parse_args(argv)
    text = build(args.corpora.resolve())
    if args.check:
        same = SHIPPED.is_file() and SHIPPED.read_text(encoding="utf-8") == text
        print(f"{SHIPPED}: {'identical' if same else 'DIFFERS'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
