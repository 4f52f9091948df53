"""The shared corpora's imbalanced label columns (issue 6's test sets), read with the standard
library: ChnSentiCorp hotel reviews, the SMS spam collection and waimai delivery reviews."""

from __future__ import annotations

import csv

from tests.support.paths import corpora_dir

#: The class counts the issue names; a test checks the files still have them.
REAL_COUNTS = {
    "chnsenticorp": {"positive": 5322, "negative": 2444},
    "sms_spam": {"ham": 4827, "spam": 747},
    "waimai": {"positive": 4000, "negative": 7987},
}
_SENTIMENT = {"0": "negative", "1": "positive"}


def corpus_rows(corpus: str) -> list[tuple[str, str]]:
    """``(text, label)`` of every row of ``corpus``, labels named as in conf/corpora.yaml."""
    root = corpora_dir()
    if corpus == "sms_spam":
        with (root / "sms_spam_collection" / "SMSSpamCollection").open(encoding="utf-8") as f:
            lines = f.read().splitlines()[1:]
        return [(text, label) for label, text in (line.split("\t", 1) for line in lines if line)]
    path = {
        "chnsenticorp": root / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv",
        "waimai": root / "waimai_10k" / "waimai_10k.csv",
    }[corpus]
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["review"], _SENTIMENT[row["label"]]) for row in csv.DictReader(f)]


def corpus_labels(corpus: str) -> list[str]:
    """The label of every row of ``corpus``."""
    return [label for _, label in corpus_rows(corpus)]
