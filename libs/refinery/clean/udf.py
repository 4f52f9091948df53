"""Spark wrapper of the clean chain: bronze rows → cleaned rows, one Arrow batch at a time.

The chain itself (:func:`refinery.text.chain.clean_frame`) is pure pandas; this module hands
it Arrow batches through ``mapInPandas`` and, in the same pass, checks the annotation rules
(:func:`refinery.clean.annotation_checks.evaluate`) on the documents the chain accepted
(:func:`apply_rules`). The heavy objects behind the chain (jieba's
dictionary, spaCy tokenizers, the fastText model, compiled regexes) are module-level caches
of the text modules, so each Python worker loads them once and keeps them while Spark reuses
the worker (``spark.python.worker.reuse``, on by default).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

from refinery.clean.annotation_checks import evaluate
from refinery.clean.annotation_rules import RuleSet
from refinery.spark.schemas import CLEANED, STRING_MAP
from refinery.text.chain import CHAIN_STEPS, OK, QUARANTINE, CleanOptions, clean_frame
from refinery.text.pii import PiiOptions, mask_json_objects, mask_series

#: Quarantine reason of a document that violates a rule of severity ``block``.
RULE_VIOLATION = "rule_violation"

#: Bronze columns carried through the chain (``meta`` as JSON: maps round-trip more
#: cheaply through Arrow as strings).
_CARRIED = StructType(
    [
        StructField("id", StringType(), False),
        StructField("text", StringType(), True),
        StructField("label", StringType(), True),
        StructField("source", StringType(), True),
        StructField("event_ts", TimestampType(), True),
        StructField("ingest_batch", StringType(), True),
        StructField("meta_json", StringType(), True),
        StructField("content_hash", StringType(), True),
    ]
)
#: What comes back: the carried columns without the raw ``text`` (the chain's ``clean_text``
#: replaces it; not shipping it back saves converting every document twice, and nothing
#: after the chain can leak the unmasked original).
_RETURNED = StructType([f for f in _CARRIED.fields if f.name != "text"])
#: What the Python worker spends, per step, in CPU seconds: the chain's :data:`CHAIN_STEPS` and its
#: ``other`` (assembling the batch), then ``meta`` (masking PII in ``meta``) and ``rules``
#: (the annotation rules).
TIMED_STEPS: tuple[str, ...] = (*CHAIN_STEPS, "other", "meta", "rules")
#: Column ``cpu_seconds``: each row carries its share of its Arrow batch's step times (the
#: batch's seconds / its rows), so a sum over rows is the job's CPU time per step.
CPU_SECONDS = StructType([StructField(step, DoubleType(), False) for step in TIMED_STEPS])
_OUTPUT = StructType([*_RETURNED.fields, *CLEANED.fields, StructField("cpu_seconds", CPU_SECONDS, False)])


def clean_records(bronze: DataFrame, options: CleanOptions, rules: RuleSet | None = None) -> DataFrame:
    """Every bronze row with the chain's columns (:data:`refinery.spark.schemas.CLEANED`)
    in place of ``text``, ``meta`` kept (its values PII-masked with ``options.mask_meta``) and
    ``cpu_seconds`` (:data:`CPU_SECONDS`); one output row per input row. With ``rules``, the
    accepted rows are checked against them (:func:`apply_rules`)."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            timings: dict[str, float] = {}
            start = time.process_time()
            if options.mask_meta:
                frame["meta_json"] = mask_json_objects(frame["meta_json"], options.pii)
            timings["meta"] = time.process_time() - start
            cleaned = clean_frame(frame, options, timings=timings)
            start = time.process_time()
            out = apply_rules(cleaned, rules)[[*_RETURNED.names, *CLEANED.names]]
            timings["rules"] = time.process_time() - start
            share = {step: timings.get(step, 0.0) / max(len(frame), 1) for step in TIMED_STEPS}
            out["cpu_seconds"] = [share] * len(out)
            yield out

    carried = bronze.select(*[c for c in _CARRIED.names if c != "meta_json"], F.to_json("meta").alias("meta_json"))
    cleaned = carried.mapInPandas(run, _OUTPUT)
    return cleaned.withColumn("meta", F.from_json("meta_json", STRING_MAP)).drop("meta_json")


def apply_rules(cleaned: pd.DataFrame, rules: RuleSet | None) -> pd.DataFrame:
    """Check ``rules`` on the rows of a :func:`clean_frame` result that the chain accepted
    (``outcome`` ``ok``) and add their ``rule_violations`` column, in place.

    * ``rule_violations``: the names of every rule the row violates, in rule order; ``[]``
      when it violates none; ``None`` when it was not checked (no rules configured, or the
      chain already refused the row). ``null`` therefore never means "clean".
    * A row violating a ``block`` rule becomes ``quarantine`` with reason
      :data:`RULE_VIOLATION` and a ``detail`` naming the rules (``block: a, b; flag: c``):
      rule names only, never the text.

    The chain's ``clean_text`` is the rules' ``text``; ``meta`` comes from ``meta_json``."""
    cleaned["rule_violations"] = None
    if rules is None or not rules.active:
        return cleaned
    positions = np.flatnonzero((cleaned["outcome"] == OK).to_numpy())
    if not len(positions):
        return cleaned
    rows = cleaned.iloc[positions].reset_index(drop=True)
    view = pd.DataFrame(
        {
            "label": rows["label"],
            "source": rows["source"],
            "lang": rows["lang"],
            "lang_score": rows["lang_score"],
            "text": rows["clean_text"],
            "n_tokens": rows["n_tokens"],
        }
    )
    if rules.meta_keys:
        view["meta"] = [json.loads(m) if isinstance(m, str) else None for m in rows["meta_json"]]
    verdict = evaluate(rules, view)
    column = np.full(len(cleaned), None, dtype=object)
    for position, names in zip(positions, verdict["violated"], strict=True):
        column[position] = names
    cleaned["rule_violations"] = column
    blocked = verdict["blocking"].map(bool).to_numpy()
    if blocked.any():
        at = positions[blocked]
        details = [
            _detail(b, v) for b, v in zip(verdict["blocking"][blocked], verdict["violated"][blocked], strict=True)
        ]
        for name, value in (("outcome", QUARANTINE), ("reason", RULE_VIOLATION), ("detail", details)):
            cleaned.iloc[at, cleaned.columns.get_loc(name)] = value
    return cleaned


def _detail(blocking: list[str], violated: list[str]) -> str:
    flagged = [name for name in violated if name not in blocking]
    detail = "block: " + ", ".join(blocking)
    return detail + ("; flag: " + ", ".join(flagged) if flagged else "")


def mask_pii(column: Column, options: PiiOptions) -> Column:
    """``column`` (strings) with every PII span replaced by its token
    (:func:`refinery.text.pii.mask_series`, one Arrow batch at a time); nulls stay null."""

    @F.pandas_udf(StringType())
    def masked(texts: pd.Series) -> pd.Series:
        return mask_series(texts, options)["text"]

    return masked(column)
