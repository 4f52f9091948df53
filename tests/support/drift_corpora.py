"""Real corpora as time series with known change points, for the drift tests: AG News rows
(English, four balanced classes) and THUCNews titles (Chinese, ten classes), read with the
standard library, dealt into weekly windows by a seeded multinomial draw so every window
carries real sampling noise."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import numpy as np

from tests.support.paths import corpora_dir

AG_LABELS = {"1": "World", "2": "Sports", "3": "Business", "4": "Sci/Tech"}
THUC_LABELS = (
    "finance",
    "realty",
    "stocks",
    "education",
    "science",
    "society",
    "politics",
    "sports",
    "game",
    "entertainment",
)
#: The change-point series: 10 ISO weeks from Monday 2024-01-01 (2024-W01), 450 rows each;
#: weeks 1-4 draw the four classes evenly, from week 5 World is drawn 3x as often as each
#: other class (shares 1/2, 1/6, 1/6, 1/6; KL from the even mix 0.144 nats).
WEEKS, CHANGE_WEEK, WEEK_ROWS = 10, 5, 450
START = datetime(2024, 1, 1, tzinfo=UTC)
BEFORE = {"World": 0.25, "Sports": 0.25, "Business": 0.25, "Sci/Tech": 0.25}
AFTER = {"World": 0.5, "Sports": 1 / 6, "Business": 1 / 6, "Sci/Tech": 1 / 6}
SEED = 7

Row = tuple[str, str, str]  # id, text, label


def ag_news_rows() -> list[Row]:
    """``(id, title + description, label)`` of the 7,600 rows of AG News's test split."""
    with (corpora_dir() / "ag_news" / "test.csv").open(encoding="utf-8", newline="") as f:
        return [(f"ag_news:{i}", f"{t}\n{d}", AG_LABELS[c]) for i, (c, t, d) in enumerate(csv.reader(f))]


def thucnews_rows() -> list[Row]:
    """``(id, title, label)`` of THUCNews's 10,000 dev titles."""
    with (corpora_dir() / "thucnews_titles" / "dev.txt").open(encoding="utf-8") as f:
        lines = [line.rstrip("\n").rsplit("\t", 1) for line in f if line.strip()]
    return [(f"thucnews:{i}", title, THUC_LABELS[int(c)]) for i, (title, c) in enumerate(lines)]


def week_mix(week: int) -> dict[str, float]:
    """The class shares drawn in ``week`` (1-based)."""
    return BEFORE if week < CHANGE_WEEK else AFTER


def weekly_counts(rng: np.random.Generator) -> list[dict[str, int]]:
    """Rows per class of each week: one multinomial draw of :data:`WEEK_ROWS` per week."""
    result = []
    for week in range(1, WEEKS + 1):
        mix = week_mix(week)
        drawn = rng.multinomial(WEEK_ROWS, list(mix.values()))
        result.append(dict(zip(mix, (int(n) for n in drawn), strict=True)))
    return result


def change_point_series(seed: int = SEED) -> list[tuple[str, str, str, datetime]]:
    """AG News rows dealt into the change-point weeks: ``(id, text, label, event_ts)``, each
    row at a random second of its week, no row used twice."""
    rng = np.random.default_rng(seed)
    pools: dict[str, list[Row]] = {label: [] for label in BEFORE}
    for row in ag_news_rows():
        pools[row[2]].append(row)
    for rows in pools.values():
        rng.shuffle(rows)
    series = []
    for week, counts in enumerate(weekly_counts(rng)):
        for label, n in counts.items():
            taken, pools[label] = pools[label][:n], pools[label][n:]
            assert len(taken) == n, f"AG News has too few {label} rows left for week {week + 1}"
            for row_id, text, _ in taken:
                offset = timedelta(days=7 * week, seconds=int(rng.integers(0, 7 * 86_400)))
                series.append((row_id, text, label, START + offset))
    return series
