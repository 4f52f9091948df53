"""ReDoS check of the PII recognisers (issue 9, part 4): every pattern of
:mod:`refinery.text.pii`, and :func:`refinery.text.pii.find` as a whole (patterns, checks and
overlap resolution), timed on adversarial inputs at two sizes; linear time means
``time(large) / time(small) ≈ large / small`` (10 for 100 kB and 1 MB), and the acceptance
bound is 12.

Adversarial inputs (:data:`INPUTS`) are long runs of near-matches aimed at each pattern: digit
runs (IDs, phones, cards, USCC), digit groups with spaces, dashes and dots, runs of the
separators themselves, e-mail look-alikes with no TLD, dotted near-IPs, colon runs for IPv6,
URL schemes without a secret, passport-like codes after a context word, mixed CJK and digits,
and texts dense with real PII (so the checks and the overlap resolution carry a full load).
Each input is built by repeating a unit up to the wanted size.

Timing: each measurement calls the function enough times to run for ``min_seconds`` and keeps
the per-call time; the best of ``repeats`` such measurements counts (the machine is shared).
``tests/unit/test_redos.py`` runs :func:`measure` at 20 kB / 200 kB.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from refinery.text import pii

SMALL, LARGE = 100_000, 1_000_000
RATIO_BOUND = 12.0


def _repeat(unit: str, head: str = "", tail: str = "") -> Callable[[int], str]:
    def build(size: int) -> str:
        body = size - len(head) - len(tail)
        return head + (unit * (body // len(unit) + 1))[: max(body, 0)] + tail

    return build


#: name → builder(size) of an adversarial text of ``size`` characters.
INPUTS: dict[str, Callable[[int], str]] = {
    "digits": _repeat("1"),
    "digits_cycle": _repeat("1234567890"),
    "digits_spaced_4": _repeat("6222 "),
    "digits_double_space": _repeat("1381  "),
    "digits_dashed_4": _repeat("4111-"),
    "digits_dotted": _repeat("1."),
    "digits_dash_glued": _repeat("1-"),
    "dashes": _repeat("-"),
    "dots": _repeat("."),
    "spaces_then_digit": _repeat(" ", tail="1"),
    "near_mobile": _repeat("138 1234 567 "),
    "near_landline": _repeat("(010)1234-56 "),
    "near_cn_id": _repeat("11010519491231002 "),
    "near_card_luhn": _repeat("4111 1111 1111 1112 "),
    "near_uscc": _repeat("91350100M00004000"),
    "email_no_tld": lambda n: "a" * (n // 2) + "@" + "a" * (n - n // 2 - 1),
    "email_dotted_local": _repeat("a.", tail="@"),
    "email_at_runs": _repeat("a@"),
    "email_label_no_tld": _repeat("x@y."),
    "email_hyphen_domain": _repeat("a-", head="user@"),
    "ip_dotted_run": _repeat("1.2.3."),
    "ip_octets_too_big": _repeat("999.999.999.999 "),
    "ip_versions": _repeat("1.2.3.4.5 "),
    "ipv6_colons": _repeat(":"),
    "ipv6_hex_colon": _repeat("a:"),
    "ipv6_groups": _repeat("abcd:"),
    "ipv6_double_colon": _repeat("1::"),
    "intl_plus_run": _repeat("+1"),
    "intl_separators": _repeat("+1 (2) 3-4.5 "),
    "url_no_secret": _repeat("a", head="https://example.com/"),
    "url_schemes": _repeat("a://"),
    "url_query_near_secret": _repeat("&toke=abcd", head="https://h/?"),
    "passport_context": _repeat("护照D1234567 "),
    "cjk_digits": _repeat("手机号码1381234567身份证"),
    "cjk_mixed_near_id": _repeat("号11010519491231002X号"),
    "at_signs": _repeat("@"),
    "alnum": _repeat("a1"),
    "letter_digits": _repeat("E1"),
    "digits_then_at": _repeat("1", tail="@"),
    "hex_run_then_colons": _repeat("f", tail="::"),
    "url_userinfo_runs": _repeat("http://a:"),
    "url_query_keys": _repeat("key=", head="https://a.b/?"),
    "intl_parens": _repeat("+1("),
    "phone_pairs": _repeat("12 "),
    "phone_parens": _repeat("(12) "),
    "phone_dots": _repeat("123."),
    "phone_near_nanp": _repeat("555-123-456 "),
    "iban_groups": _repeat("WEST ", head="GB82 "),
    "iban_runs": _repeat("GB82"),
    "ssn_near": _repeat("078-05-112 "),
    "mobile_prefixes": _repeat("+86"),
    "dense_pii_mixed": _repeat("a@b.cc 1.1.1.1 13812345678 "),
    "dense_pii_cjk": _repeat("邮箱a@b.cn电话+8613812345678身份证11010519491231002X"),
}


def patterns() -> dict[str, re.Pattern[str]]:
    """Every regular expression that :func:`refinery.text.pii.find` runs over a whole text:
    each type's candidate pattern, the gates and the pre-filter. (The patterns run only on
    one candidate, ``_PASSPORT_STRICT``, the phone extension and the context windows, see
    bounded input.)"""
    recognizers = dict.fromkeys(rec for group in pii._RECOGNIZERS.values() for rec in group)
    found = {f"pattern:{rec.types[0]}": rec.pattern for rec in recognizers}
    found.update(
        {
            "gate:digits": pii._GATE_DIGITS,
            "gate:phone": pii._GATE_PHONE,
            "gate:dotted": pii._GATE_DOTTED,
            "gate:hex_colon": pii._GATE_HEX_COLON,
            "gate:iban": pii._GATE_IBAN,
            "prefilter": pii._PREFILTER,
        }
    )
    return found


def _scan(pattern: re.Pattern[str]) -> Callable[[str], object]:
    def run(text: str) -> int:
        return sum(1 for _ in pattern.finditer(text))

    return run


def per_call_seconds(fn: Callable[[str], object], text: str, min_seconds: float, repeats: int) -> float:
    """Best over ``repeats`` of the mean time of one call, each measurement lasting at least
    ``min_seconds`` (more calls for fast ones). Time is this thread's CPU time
    (``time.thread_time``): on a shared machine another process's load makes a measurement
    wait, but does not count in it, as it would in wall-clock time."""
    best = float("inf")
    loops = 1
    for _ in range(repeats):
        while True:
            started = time.thread_time()
            for _ in range(loops):
                fn(text)
            elapsed = time.thread_time() - started
            if elapsed >= min_seconds or loops >= 1 << 16:
                break
            loops = max(loops * 2, int(loops * min_seconds / max(elapsed, 1e-9)) + 1)
        best = min(best, elapsed / loops)
    return best


@dataclass(frozen=True)
class Cell:
    target: str  # "pattern:EMAIL", "gate:digits", "find" ...
    input: str
    small_s: float
    large_s: float

    @property
    def ratio(self) -> float:
        return self.large_s / self.small_s if self.small_s > 0 else float("inf")


def measure(
    small: int = SMALL,
    large: int = LARGE,
    min_seconds: float = 0.02,
    repeats: int = 1,
    retries: int = 3,
    inputs: dict[str, Callable[[int], str]] | None = None,
) -> list[Cell]:
    """Every pattern and :func:`pii.find` on every adversarial input at both sizes. A cell
    whose ratio exceeds :data:`RATIO_BOUND` is measured again, up to ``retries`` rounds of the
    small size then at once the large one, and keeps the round of lowest ratio: a burst of
    load from another process on this shared machine slows one measurement of a pair, not
    both, so it is not taken for super-linear time, while a truly super-linear pattern stays
    over the bound in every round (a quadratic one is 10x over it)."""
    targets: dict[str, Callable[[str], object]] = {name: _scan(p) for name, p in patterns().items()}
    targets["find"] = pii.find
    cells = []
    for input_name, build in (inputs or INPUTS).items():
        texts = build(small), build(large)
        assert len(texts[0]) == small and len(texts[1]) == large, input_name
        for target, fn in targets.items():
            times = [per_call_seconds(fn, text, min_seconds, repeats) for text in texts]
            for _ in range(retries):
                if times[1] / times[0] <= RATIO_BOUND:
                    break
                again = [per_call_seconds(fn, text, min_seconds, 2) for text in texts]
                if again[1] / again[0] < times[1] / times[0]:
                    times = again
            cells.append(Cell(target, input_name, *times))
    return cells


def run() -> dict[str, object]:
    cells = measure()
    worst = max(cells, key=lambda c: c.ratio)
    by_target: dict[str, dict[str, float]] = {}
    for cell in cells:
        by_target.setdefault(cell.target, {})[cell.input] = round(cell.ratio, 2)
    slowest = max(cells, key=lambda c: c.large_s)
    return {
        "sizes_chars": {"small": SMALL, "large": LARGE},
        "bound": RATIO_BOUND,
        "linear_ratio": LARGE / SMALL,
        "ratios": {
            "max": round(worst.ratio, 2),
            "max_at": f"{worst.target} on {worst.input}",
            "median": round(sorted(c.ratio for c in cells)[len(cells) // 2], 2),
            "over_bound": sum(c.ratio > RATIO_BOUND for c in cells),
        },
        "cells": len(cells),
        "slowest_1mb": {"at": f"{slowest.target} on {slowest.input}", "seconds": round(slowest.large_s, 4)},
        "ratio_by_target": by_target,
        "seconds": {
            f"{c.target} on {c.input}": {"small": round(c.small_s, 6), "large": round(c.large_s, 6)} for c in cells
        },
        "cores_used": 1,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run()["ratios"], indent=2))
