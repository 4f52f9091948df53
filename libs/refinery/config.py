"""Typed, validated configuration: YAML files, overlays and ``--set`` overrides.

A run's configuration is built in three layers, later ones winning:

1. the YAML files given with ``--conf`` (each may name a parent with ``extends:``, a path
   relative to itself, so ``conf/local.yaml`` pulls in ``conf/base.yaml``);
2. repeated ``--set dotted.key=value`` overrides, where ``value`` is read as a YAML scalar
   (``--set spark.shuffle_partitions=8`` gives an int, ``--set ingest.only=[sms]`` a list);
3. validation by the pydantic models below, which refuse unknown keys and wrong types.

Any problem raises :class:`ConfigError`, whose message names the dotted key and the fix; the
job runner turns it into exit code 2 before Spark is started.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from refinery.clean.annotation_rules import RuleError, RuleSet, load_rules, parse_rules

TABLE_NAMES = ("bronze", "silver", "quarantine", "gold", "metrics", "review_queue", "signatures", "ingest_state")
CATALOG_PREFIX = "catalog:"
#: ``ingest.max_line_bytes``: the longest physical line read whole, in bytes (32 MiB).
DEFAULT_MAX_LINE_BYTES = 32 << 20


class ConfigError(ValueError):
    """A configuration problem, with a message that names the key and the fix."""


class _Strict(BaseModel):
    # YAML reads `1` as an int where a label or name is meant: accept it as the string "1".
    model_config = ConfigDict(extra="forbid", validate_default=True, coerce_numbers_to_str=True)


class SparkSettings(_Strict):
    """How the SparkSession is built (see :mod:`refinery.spark.session`)."""

    mode: Literal["local", "cluster"] = "local"
    #: Spark master URL. ``None`` means ``local[local_cores]`` in local mode, and in cluster
    #: mode whatever ``spark-submit --master`` said.
    master: str | None = None
    local_cores: int = Field(2, ge=1)
    #: Shuffle partitions; Spark's default of 200 is far too many for local mode.
    shuffle_partitions: int = Field(4, ge=1)
    driver_memory: str | None = "2g"
    #: Most bytes of one Arrow batch Spark hands a Python worker
    #: (``spark.sql.execution.arrow.maxBytesPerBatch``, MiB). A batch's Python objects
    #: (token lists, pandas columns, spaCy docs) take 30–60 times its Arrow bytes, so this,
    #: not a row count, is what bounds a worker's memory on long documents
    #: (``bench/results/scale.json``, ``python_worker``).
    python_batch_mb: int = Field(4, ge=1, le=1024)
    #: Folder holding the Delta jars resolved by ``make jars`` (relative to the project root).
    jars_dir: str = ".jars"
    ui_enabled: bool = False
    #: Spark's console progress bar (``[Stage 3:====>   (2 + 2) / 4]`` on stderr) for stages
    #: that run longer than half a second; off for tests and log collectors that dislike ``\r``.
    progress_bar: bool = True
    #: Log level of Spark's own (log4j) logging; Refinery's JSON lines follow ``--log-level``.
    log_level: Literal["ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"] = "WARN"
    #: How often a Delta write that lost its commit to a concurrent writer is run again
    #: (see :mod:`refinery.spark.commit_retry`); 0 fails at the first conflict.
    commit_retries: int = Field(4, ge=0, le=20)
    #: Wait before the first retry, doubled for each further one, with ±50 % jitter (seconds).
    commit_retry_wait_seconds: float = Field(1.0, ge=0, le=300)
    #: Extra Spark properties passed through as they are (``--set spark.conf.KEY=VALUE``,
    #: where KEY is the whole dotted Spark property name).
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf", mode="before")
    @classmethod
    def _scalars_as_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: str(v).lower() if isinstance(v, bool) else v for k, v in value.items()}
        return value


class TablesSettings(_Strict):
    """Where each Delta table lives: a path (local, ``hdfs://``, ``s3a://`` …) or
    ``catalog:db.name`` for a metastore table."""

    bronze: str
    silver: str
    quarantine: str
    gold: str
    metrics: str
    review_queue: str
    #: The dedup job's stored canonical hashes and MinHash band keys, one row per silver row.
    signatures: str
    #: The table versions each ingest batch read of each Delta source (incremental ingest).
    ingest_state: str

    @field_validator(*TABLE_NAMES)
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty path or catalog:db.name; fix: e.g. data/<table>")
        return resolve_path(value)


ColumnRef = int | str


class SourceColumns(_Strict):
    """Which input column feeds each bronze field: a 0-based index for files without a
    header, or a name (header row, JSON key, Parquet column)."""

    text: ColumnRef | list[ColumnRef]
    label: ColumnRef | None = None
    id: ColumnRef | None = None
    event_ts: ColumnRef | None = None


class SourceSettings(_Strict):
    """One input: a file, folder or glob (or a Delta table), its format, encoding and column
    mapping."""

    enabled: bool = True
    #: File, folder or glob, or a list of them; relative paths start at ``ingest.input_root``.
    #: For ``format: delta``: one Delta table, its folder or ``catalog:db.table``.
    path: str | list[str]
    #: ``parquet`` and ``delta`` are mapped column by column; ``delta`` is read incrementally.
    format: Literal["jsonl", "csv", "tsv", "text", "parquet", "delta"]
    #: A Python codec name, or ``auto`` (BOM, then strict UTF-8, then charset detection).
    encoding: str = "auto"
    #: Codec tried for a line that does not decode with ``encoding``; ``None`` quarantines it.
    fallback_encoding: str | None = None
    header: bool = False
    delimiter: str | None = None
    #: ``minimal``: RFC-4180 quotes; ``none``: quotes are ordinary characters (raw TSV).
    quoting: Literal["minimal", "none"] = "minimal"
    #: CSV/TSV with ``quoting: minimal``: a quoted field may hold newlines, so each file is
    #: parsed from its first byte by one task. ``false`` (Spark's ``multiLine=false``) lets a
    #: large file be split by lines across tasks like JSONL (and parsed by the JVM reader); each
    #: line is one record, so a field that does hold a newline makes two malformed records.
    #: Files with ``quoting: none`` are always split.
    multiline: bool = True
    columns: SourceColumns = Field(default_factory=lambda: SourceColumns(text=0))
    #: Separator used when ``columns.text`` lists several columns (title + body).
    text_join: str = "\n"
    #: Regex with one group, applied to the file name, giving the label (``rt-polarity.pos``).
    label_from_path: str | None = None
    #: Raw label → label name (``"1": World``); raw labels not in the map pass unchanged.
    label_map: dict[str, str] = Field(default_factory=dict)
    #: Allowed labels after mapping; ``None`` accepts any. A label outside is quarantined.
    labels: list[str] | None = None
    #: Quarantine records without a label (after mapping).
    label_required: bool = True
    #: ``strftime``-less Spark datetime pattern for ``event_ts``; ``None`` lets Spark parse ISO.
    event_ts_format: str | None = None
    #: ``format: delta`` only: read the table's whole current version, not the versions after
    #: the last one ingested; the switch for a source that was rewritten (overwrite, MERGE).
    full_refresh: bool = False

    @field_validator("encoding", "fallback_encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        import codecs

        if value is None or value == "auto":
            return value
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use a Python codec name or 'auto'") from None
        return value

    @model_validator(mode="after")
    def _delimiter_for_format(self) -> SourceSettings:
        if self.delimiter is None and self.format in ("csv", "tsv"):
            self.delimiter = "," if self.format == "csv" else "\t"
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError("delimiter must be exactly one character")
        self._table_path_for_format()
        if self.label_from_path is not None:
            import re

            if re.compile(self.label_from_path).groups != 1:
                raise ValueError("label_from_path must be a regex with exactly one group")
        return self

    def _table_path_for_format(self) -> None:
        paths = [self.path] if isinstance(self.path, str) else self.path
        if self.format == "delta" and not isinstance(self.path, str):
            raise ValueError("format delta reads one table: give path as one folder or catalog:db.table, not a list")
        if self.format != "delta" and any(p.startswith(CATALOG_PREFIX) for p in paths):
            raise ValueError(f"a catalog table is read with format: delta, not {self.format}")
        if self.full_refresh and self.format != "delta":
            raise ValueError("full_refresh applies to format: delta only; remove it")


class IngestSettings(_Strict):
    """The ``ingest`` job: files → ``bronze``."""

    #: Relative source paths are joined to this folder (relative to the working directory).
    input_root: str = "."
    #: Batch name (the ``ingest_batch`` partition). ``auto``: derived from the input files'
    #: paths and sizes, so re-ingesting the same files replaces the same partition.
    batch: str = "auto"
    #: Names of the sources to ingest; ``None`` ingests every enabled source.
    only: list[str] | None = None
    #: Longest accepted text, in characters; longer records are quarantined.
    max_text_chars: int = Field(100_000, ge=1)
    #: Input bytes of one read task: a larger uncompressed line-per-record file is split into
    #: byte ranges of this size (line by line, so that every core parses a part of it), and
    #: small files are packed together up to it. Compressed files are read whole by one task.
    #: A task's memory does not grow with it (records go out in capped batches), but each task
    #: costs a fixed Python worker setup, so ranges are large.
    max_partition_bytes: int = Field(64 << 20, ge=1 << 20)
    #: Longest physical line read whole, in bytes: a longer one is read through, refused as
    #: ``line_too_long`` and not kept, so a parser's memory never grows with one line (or one
    #: file). Keep it above what ``max_text_chars`` allows (up to 4 bytes a character, more
    #: with JSON escapes and meta).
    max_line_bytes: int = Field(DEFAULT_MAX_LINE_BYTES, ge=1 << 20)
    #: Original payload kept in quarantine rows, in characters.
    payload_max_chars: int = Field(4_000, ge=16)
    #: Mask PII in the payload of the records ingest quarantines (with ``clean.pii``'s types and
    #: tokens, before truncation). Off by default: a refused record is kept as it came, to
    #: show what was wrong with it, so ``tables.quarantine`` is as sensitive as the input.
    payload_mask: bool = False
    #: Where UTF-8 JSONL files, and CSV/TSV files read one record per line (``multiline: false``
    #: or ``quoting: none``), are parsed. ``auto``: in the JVM (``refinery-jvm.jar``, built by
    #: ``make jars``) for a source of at least one read task's worth of bytes, when the jar is
    #: on the classpath; in Python otherwise. ``always``: in the JVM wherever it can read
    #: (fails when the jar is missing); ``never``: always in Python. Both give the same records (lines the JVM reader is
    #: not certain of are parsed in Python either way); the JVM is the cheaper by far.
    jvm_reader: Literal["auto", "always", "never"] = "auto"
    #: Where the compressed files (``.gz``, ``.bz2``) the JVM reader reads are decompressed,
    #: once per run, so that each is split across every core like an uncompressed file (a
    #: compressed file cannot be split). Needs the decompressed size free on storage every
    #: executor reads; the run's folder is removed when the run ends. ``None``:
    #: ``_ingest_staging`` beside the bronze table's folder (for a catalog bronze table, no
    #: staging: compressed files are then parsed in Python).
    staging_dir: str | None = None
    sources: dict[str, SourceSettings] = Field(default_factory=dict)

    @field_validator("staging_dir")
    @classmethod
    def _staging_resolved(cls, value: str | None) -> str | None:
        return resolve_path(value) if value is not None else None

    @field_validator("batch", mode="before")
    @classmethod
    def _date_as_string(cls, value: Any) -> Any:
        # YAML (and so --set) reads an unquoted 2026-11-28 as a date.
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("batch")
    @classmethod
    def _batch_name(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[A-Za-z0-9_.:+-]{1,128}", value):
            raise ValueError("use 1-128 characters from A-Z a-z 0-9 _ . : + - (e.g. 2026-11-28)")
        return value

    @model_validator(mode="after")
    def _only_names_sources(self) -> IngestSettings:
        for name in self.only or []:
            if name not in self.sources:
                raise ValueError(f"ingest.only names {name!r}, which is not in ingest.sources")
        return self

    def selected_sources(self) -> dict[str, SourceSettings]:
        """The sources this run ingests, in name order."""
        names = self.only if self.only is not None else [n for n, s in self.sources.items() if s.enabled]
        return {name: self.sources[name] for name in sorted(names)}


class NormalizeSettings(_Strict):
    """``clean.normalize``: which normalization steps run (see :mod:`refinery.text.normalize`)."""

    mojibake: bool = True
    html: bool = True
    control: bool = True
    nfkc: bool = True
    whitespace: bool = True
    #: Traditional → Simplified Chinese (OpenCC); off by default, it rewrites characters.
    t2s: bool = False
    #: Keep full-width CJK punctuation (，。！？) through NFKC: right for Chinese training text.
    keep_cjk_punct: bool = True
    keep_newlines: bool = False


class LangIdSettings(_Strict):
    """``clean.langid`` (see :mod:`refinery.text.langid`)."""

    backend: Literal["ensemble", "fasttext", "langdetect", "lingua"] = "ensemble"
    #: Candidate languages (ISO 639-1); ``None`` lets the backend answer any language.
    languages: list[str] | None = None
    min_score: float = Field(0.3, ge=0.0, le=1.0)
    short_text_chars: int = Field(20, ge=0)
    #: Latin-script texts with fewer letters get the short-text vote of fastText and lingua; 0: off.
    short_vote_chars: int = Field(20, ge=0)
    mixed_min_share: float = Field(0.2, ge=0.0, le=1.0)


class SegmentSettings(_Strict):
    """``clean.segment`` (see :mod:`refinery.text.segment`)."""

    #: Segment at all. Off: silver's ``tokens`` and ``n_tokens`` are null ("not computed",
    #: unlike ``[]``: text without words), for pipelines that only need clean, tagged, masked
    #: text (the step's share of the chain: ``bench/results/chain.json``).
    enabled: bool = True
    engine: Literal["jieba", "rjieba"] = "rjieba"
    hmm: bool = True
    #: jieba user dictionary (``word freq tag`` lines), relative to the working directory.
    user_dict: str | None = None
    #: Where jieba caches its prefix dictionary; ``None`` = a per-user temp folder.
    cache_dir: str | None = None
    lowercase: bool = False


class PiiSettings(_Strict):
    """``clean.pii`` (see :mod:`refinery.text.pii`)."""

    #: PII types to mask; ``None`` = all supported types.
    types: list[str] | None = None
    #: Replacement token per type, overriding the defaults (``EMAIL: "<EMAIL>"``).
    tokens: dict[str, str] = Field(default_factory=dict)
    #: Mask only public IP addresses (private, loopback and reserved ranges are kept).
    public_ip_only: bool = False
    #: Regions whose national phone formats are read (ISO 3166-1 alpha-2 as libphonenumber
    #: names them); ``None`` = :data:`refinery.text.pii.DEFAULT_PHONE_REGIONS`.
    phone_regions: list[str] | None = None
    #: Mask the values of ``meta`` (a source's other columns) too; ``false`` keeps them as
    #: they came, so silver's ``meta`` is as sensitive as the input.
    meta: bool = True

    @field_validator("phone_regions")
    @classmethod
    def _known_regions(cls, value: list[str] | None) -> list[str] | None:
        import phonenumbers

        if value is None:
            return None
        bad = [region for region in value if region not in phonenumbers.SUPPORTED_REGIONS]
        if bad or not value:
            raise ValueError(
                f"unknown phone regions {bad or '[]'}; fix: list ISO 3166-1 alpha-2 codes libphonenumber "
                "supports, e.g. [CN, GB, US] (GB, not UK), or null for the defaults"
            )
        return value


def pii_options(pii: PiiSettings) -> Any:
    """The :class:`refinery.text.pii.PiiOptions` that ``clean.pii`` describes."""
    from refinery.text.pii import ALL_TYPES, DEFAULT_PHONE_REGIONS, PiiOptions

    return PiiOptions(
        types=tuple(pii.types) if pii.types is not None else ALL_TYPES,
        tokens=pii.tokens,  # overrides the defaults type by type
        public_ip_only=pii.public_ip_only,
        phone_regions=tuple(pii.phone_regions) if pii.phone_regions is not None else DEFAULT_PHONE_REGIONS,
    )


class QualitySettings(_Strict):
    """``clean.quality``: per-document quality signals and the named rules over them
    (see :mod:`refinery.text.quality`). Validated here, so a bad rule stops the job before
    Spark starts; :meth:`active_rules` is the resolved list."""

    #: Compute the signals (silver's ``quality`` struct) and check the rules (``quality_flags``);
    #: ``false`` leaves both null ("not checked").
    enabled: bool = True
    #: The rules: ``None`` = the language-aware defaults; a list replaces them.
    rules: list[dict[str, Any]] | None = None
    #: Rules appended to ``rules`` (or to the defaults).
    add: list[dict[str, Any]] = Field(default_factory=list)
    #: Names of rules to skip.
    disable: list[str] = Field(default_factory=list)
    #: Per rule name, keys to change: ``{mostly_digits: {severity: flag}}``.
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rules_are_valid(self) -> QualitySettings:
        from refinery.text.quality.quality_rules import QualityRuleError

        try:
            self.active_rules()
        except QualityRuleError as exc:
            raise PydanticCustomError("invalid_quality_rules", "{message}", {"message": str(exc)}) from None
        return self

    def active_rules(self) -> tuple[Any, ...]:
        """The :class:`~refinery.text.quality.quality_rules.QualityRule` s to check (none when disabled)."""
        from refinery.text.quality.quality_rules import configured_rules

        if not self.enabled:
            return ()
        return configured_rules(self.rules, self.add, self.disable, self.overrides)


class CleanSettings(_Strict):
    """The ``clean`` job: ``bronze`` → ``silver``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)  # rules: a RuleSet once validated

    #: The ``ingest_batch`` to clean; ``None`` cleans all of bronze.
    batch: str | None = None
    normalize: NormalizeSettings = Field(default_factory=NormalizeSettings)
    langid: LangIdSettings = Field(default_factory=LangIdSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    pii: PiiSettings = Field(default_factory=PiiSettings)
    #: Languages kept in silver; ``None`` keeps every language.
    allowed_languages: list[str] | None = None
    #: What happens to a document in another language: ``quarantine`` it or ``flag`` it.
    on_disallowed_language: Literal["quarantine", "flag"] = "quarantine"
    #: Annotation rules checked on every accepted document (see :mod:`refinery.clean.annotation_rules`):
    #: a YAML rules file, an inline list of rules, or ``None`` for none. Loaded and validated
    #: here, so a bad rule stops the job before Spark starts; afterwards this is a ``RuleSet``.
    rules: RuleSet | None = None
    #: Quality heuristics (garbled, repeated, symbol-only text): see :class:`QualitySettings`.
    quality: QualitySettings = Field(default_factory=QualitySettings)

    @field_validator("batch", mode="before")
    @classmethod
    def _date_as_string(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("rules", mode="before")
    @classmethod
    def _load_rules(cls, value: Any) -> RuleSet | None:
        try:
            if value is None or isinstance(value, RuleSet):
                return value
            if isinstance(value, str):
                return load_rules(rules_file(value))
            if isinstance(value, list):
                return parse_rules(value, origin="inline clean.rules")
        except RuleError as exc:
            raise PydanticCustomError("invalid_rules", "{message}", {"message": str(exc)}) from None
        raise PydanticCustomError(
            "invalid_rules",
            "expected a rules file path, a list of rules or null, got a {kind}; fix: e.g. clean.rules: conf/rules.yaml",
            {"kind": type(value).__name__},
        )

    @model_validator(mode="after")
    def _rules_can_fire(self) -> CleanSettings:
        if self.rules is None or self.segment.enabled:
            return self
        for rule in self.rules.active:
            if any(c.field == "n_tokens" for c in (*rule.where, *rule.require)):
                raise PydanticCustomError(
                    "invalid_rules",
                    "rule '{name}' ({origin}) reads n_tokens, which is null while clean.segment.enabled is false, "
                    "so the rule could never fire; fix: enable segmentation, or set enabled: false on the rule",
                    {"name": rule.name, "origin": self.rules.origin},
                )
        return self


class ExactDedupSettings(_Strict):
    """``dedup.exact``: the canonical form whose hash defines an exact duplicate
    (see :mod:`refinery.text.canonical`)."""

    lowercase: bool = True
    strip_punct: bool = True
    strip_whitespace: bool = True
    #: Fold Traditional into Simplified Chinese before comparing.
    t2s: bool = False


class NearDedupSettings(_Strict):
    """``dedup.near``: MinHash LSH (see :mod:`refinery.text.minhash` for the trade-off)."""

    enabled: bool = True
    #: Jaccard similarity of shingle sets at or above which two documents are near duplicates.
    threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    num_perm: int = Field(default=128, ge=8, le=1024)
    bands: int = Field(default=16, ge=1)
    #: Character n-gram size for Chinese, Japanese, Thai …; word n-gram size for the rest.
    char_ngram: int = Field(default=3, ge=1)
    word_ngram: int = Field(default=2, ge=1)
    seed: int = 1
    #: LSH buckets with more members than this pair each member only with the bucket's
    #: smallest id (a star), so one boilerplate bucket cannot blow up into n² pairs.
    max_bucket: int = Field(default=200, ge=2)

    @model_validator(mode="after")
    def _bands_divide_perms(self) -> NearDedupSettings:
        if self.num_perm % self.bands:
            raise ValueError(
                f"bands ({self.bands}) must divide num_perm ({self.num_perm}); e.g. num_perm 128, bands 16"
            )
        return self


class DedupSettings(_Strict):
    """The ``dedup`` job: flags exact and near duplicates in ``silver``."""

    #: The ``ingest_batch`` deduplicated against itself and all of silver; ``None`` redoes all.
    batch: str | None = None
    exact: ExactDedupSettings = Field(default_factory=ExactDedupSettings)
    near: NearDedupSettings = Field(default_factory=NearDedupSettings)
    #: A batch's hashes, band keys, neighbourhood ids and flags are broadcast to the tasks that
    #: scan silver when there are at most this many rows of each (50-100 bytes a row in the
    #: broadcast table; a 10k-row batch has 160k band keys); more are joined by shuffling.
    broadcast_max_rows: int = Field(default=500_000, ge=0)

    @field_validator("batch", mode="before")
    @classmethod
    def _date_as_string(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value


def ngram_sizes(value: list[int]) -> list[int]:
    """Character n-gram sizes, sorted and unique; each between 1 and 10."""
    if any(n < 1 or n > 10 for n in value):
        raise ValueError("character n-gram sizes must be between 1 and 10, e.g. [1, 2, 3]")
    return sorted(set(value))


class ScoreFeatureSettings(_Strict):
    """``score.features``: the hashed n-gram bags (see :mod:`refinery.score.features`)."""

    #: Size of the hashed feature space (rows of the embedding table).
    buckets: int = Field(default=1 << 18, ge=1 << 10, le=1 << 26)
    #: Word n-grams of 1 … this many tokens.
    word_ngrams: int = Field(default=2, ge=1, le=5)
    #: Character n-gram sizes, used on texts of at most ``char_max_chars`` characters.
    char_ngrams: list[int] = Field(default_factory=lambda: [1, 2, 3])
    char_max_chars: int = Field(default=64, ge=0)
    lowercase: bool = True
    #: Weight each feature by its inverse document frequency in the group (a weighted mean
    #: of embeddings instead of a plain one; measured: +0.015 AUPRC on AG News).
    idf: bool = True

    @field_validator("char_ngrams")
    @classmethod
    def _positive_sizes(cls, value: list[int]) -> list[int]:
        return ngram_sizes(value)


class ScoreNeighbourSettings(_Strict):
    """``score.neighbours``: the label vote of each row's nearest neighbours in TF-IDF space,
    blended into the cross-fitted probabilities (see :mod:`refinery.score.neighbours`)."""

    #: Neighbours per row; 0 turns the vote off (the model's probabilities alone).
    k: int = Field(default=10, ge=0, le=200)
    #: w of the blend ``(p_model + w · q_neighbours) / (1 + w)``.
    weight: float = Field(default=0.75, ge=0.0, le=100.0)
    #: Character n-gram sizes of the neighbour space, on texts up to ``char_max_chars``
    #: (its word n-grams are ``score.features.word_ngrams``).
    char_ngrams: list[int] = Field(default_factory=lambda: [1, 2, 3, 4])
    char_max_chars: int = Field(default=1024, ge=0)
    #: A feature in more rows than this is not indexed: each row meets at most
    #: ``query_features · max_df`` candidates, so the cost grows linearly with the rows.
    max_df: int = Field(default=2000, ge=1)
    query_features: int = Field(default=256, ge=1)
    #: α: smoothing of the neighbour label distribution towards uniform.
    smoothing: float = Field(default=0.1, gt=0.0, le=10.0)

    @field_validator("char_ngrams")
    @classmethod
    def _positive_sizes(cls, value: list[int]) -> list[int]:
        return ngram_sizes(value)


class ScoreModelSettings(_Strict):
    """``score.model``: the fastText-style classifier and its training
    (see :mod:`refinery.score.train`)."""

    dim: int = Field(default=64, ge=2, le=1024)
    epochs: int = Field(default=10, ge=1, le=200)
    lr: float = Field(default=0.003, gt=0.0, le=10.0)
    batch_size: int = Field(default=64, ge=1)
    label_smoothing: float = Field(default=0.0, ge=0.0, lt=1.0)
    #: bf16 autocast on CUDA (ignored on CPU).
    amp: bool = True


class ScoreSettings(_Strict):
    """The ``score`` job: out-of-sample confidence of every labelled silver row, written back
    to ``silver`` as filter columns (see :mod:`refinery.score.job`)."""

    #: One model per value of this silver column (each source has its own label set);
    #: ``None`` trains one model over every label.
    group_by: str | None = "source"
    #: K of the K-fold cross-fitting: each row is scored by a model that never saw it.
    folds: int = Field(default=5, ge=2, le=50)
    #: Momentum m of the per-sample EMA over epochs: ema = m * ema + (1 - m) * p.
    ema_momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    #: ``label_quality``: the given label's probability, or p(given) - max other p.
    label_quality: Literal["self_confidence", "normalized_margin"] = "normalized_margin"
    #: How ``is_noisy`` is decided: one of confident learning's filters (cleanlab's
    #: ``filter_by`` names, see :mod:`refinery.labels.confident_learning`), or
    #: ``threshold``: ``confidence < threshold``.
    noise_method: Literal[
        "prune_by_noise_rate",
        "prune_by_class",
        "both",
        "confident_learning",
        "predicted_neq_given",
        "low_self_confidence",
        "low_normalized_margin",
        "threshold",
        "outvoted",
        "noise_rate_or_outvoted",
    ] = "noise_rate_or_outvoted"
    #: τ of ``noise_method: threshold``.
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    #: δ of ``noise_method: outvoted`` (and ``noise_rate_or_outvoted``): a row is noisy when
    #: another class beats its given label by more than δ, ``max_{j≠y} p_j − p_y > δ``.
    outvoted_by: float = Field(default=0.15, ge=0.0, lt=1.0)
    #: Keep each fold's model and EMA as of its epoch of lowest held-out loss (helps with
    #: systematic, class-conditional noise; costs a little with uniform noise).
    early_stopping: bool = False
    #: Which out-of-sample probabilities the noise flags and label_quality use.
    probabilities: Literal["ema", "final"] = "ema"
    #: Classes with fewer labelled rows than this are not trained on; their rows are
    #: counted as filtered (``class_too_small``). At least ``folds``.
    min_class_rows: int = Field(default=10, ge=2)
    device: Literal["auto", "cuda", "cpu"] = "auto"
    seed: int = 13
    #: Rows per Arrow batch an executor featurizes (``arrow.maxRecordsPerBatch`` for that
    #: step): a Python worker's memory grows with it and with the documents' length.
    batch_rows: int = Field(default=10_000, ge=1)
    #: Torch threads on CPU; ``None`` = torch's default (all cores).
    threads: int | None = Field(default=None, ge=1)
    #: Training processes. 1 trains in the driver; more start Spark's ``TorchDistributor``
    #: (on the driver's machine in local mode, on executors in cluster mode; one GPU each
    #: with ``device: cuda``), which trains on shards and averages the weights every epoch.
    processes: int = Field(default=1, ge=1, le=1024)
    #: Scratch folder for the featurized bags and the scores before the MERGE; it must be
    #: readable by the executors (a shared path on a cluster). Relative to the working folder.
    work_dir: str = "data/_score_work"
    features: ScoreFeatureSettings = Field(default_factory=ScoreFeatureSettings)
    model: ScoreModelSettings = Field(default_factory=ScoreModelSettings)
    neighbours: ScoreNeighbourSettings = Field(default_factory=ScoreNeighbourSettings)

    @field_validator("work_dir")
    @classmethod
    def _resolved(cls, value: str) -> str:
        return resolve_path(value)

    @model_validator(mode="after")
    def _enough_rows_per_fold(self) -> ScoreSettings:
        if self.min_class_rows < self.folds:
            raise ValueError(f"min_class_rows ({self.min_class_rows}) must be at least folds ({self.folds})")
        return self


Caps = int | dict[str, int] | None


class RebalancePlanSettings(_Strict):
    """One group's resampling plan (see :mod:`refinery.labels.resampling` for the maths)."""

    strategy: Literal["none", "undersample", "oversample", "target", "smooth"] = "none"
    #: ``undersample``: keep at most this many rows per class; ``None`` = the smallest class.
    cap: int | None = Field(default=None, ge=0)
    #: ``oversample``: reach at least this many rows per class; ``None`` = the largest class.
    floor: int | None = Field(default=None, ge=0)
    #: ``target``: ``{counts: {label: n}}`` or ``{proportions: {label: share}}`` (shares sum to 1).
    target: dict[Literal["counts", "proportions"], dict[str, float]] = Field(default_factory=dict)
    #: ``target`` with proportions, and ``smooth``: gold rows per group; ``None`` = eligible rows.
    total: int | None = Field(default=None, ge=0)
    #: ``smooth``: p_c ∝ n_c^alpha (1 keeps the distribution, 0 makes it uniform).
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Per-class floor / ceiling after the strategy: one count for all, or ``{label: count}``.
    min: Caps = None
    max: Caps = None

    def plan(self):
        """This plan as a :class:`refinery.labels.resampling.ResamplePlan` (validated)."""
        from refinery.labels.resampling import ResamplePlan

        counts = self.target.get("counts")
        if counts is not None and any(v != int(v) for v in counts.values()):
            raise ValueError("target.counts must be whole numbers of rows")
        return ResamplePlan(
            strategy=self.strategy,
            cap=self.cap,
            floor=self.floor,
            counts={k: int(v) for k, v in counts.items()} if counts is not None else None,
            proportions=self.target.get("proportions"),
            total=self.total,
            alpha=self.alpha,
            min=self.min,
            max=self.max,
        )

    @model_validator(mode="after")
    def _consistent(self) -> RebalancePlanSettings:
        self.plan()  # ResamplePlan's checks: target kind, proportions summing to 1, caps
        return self


class RebalanceFilterSettings(_Strict):
    """``rebalance.filters``: which silver rows may enter gold. A filter whose silver column
    does not exist yet (its job has not run) is skipped and reported in the metrics."""

    #: ``allowed``: rows whose language clean allowed (``lang_allowed``); ``any``; or a list of
    #: language codes.
    languages: Literal["allowed", "any"] | list[str] = "allowed"
    #: Drop duplicate non-keepers (``dup_of`` set by dedup); the cluster's keeper stays.
    duplicates: bool = True
    #: Drop rows that dedup found with an identical text and a different label.
    label_conflict: bool = False
    #: Drop rows with any flagged annotation-rule violation (``rule_violations``).
    rule_violations: bool = False
    #: Drop rows whose ``quality_flags`` hold a rule of severity ``drop`` (``clean.quality``'s
    #: rules as configured now); each is counted under ``low_quality:<first such rule>``.
    quality: bool = True
    #: ``is_noisy``: drop rows the score job flagged; ``confidence``: drop rows with
    #: ``confidence < min_confidence``; ``off``. Rows the scorer never scored are kept.
    noise: Literal["is_noisy", "confidence", "off"] = "is_noisy"
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class RebalanceSettings(RebalancePlanSettings):
    """The ``rebalance`` job: filtered silver rows, resampled per class, written to ``gold``
    (see :mod:`refinery.rebalance.job`)."""

    #: Each value of this silver column is its own training set (own label set), balanced on
    #: its own; ``None`` balances all labels together.
    group_by: str | None = "source"
    #: Balance ``(label, lang)`` cells instead of labels (e.g. the same share of every class in
    #: every language); ``target`` counts and shares are then split over a label's languages
    #: in proportion to their rows.
    stratify_by_lang: bool = False
    #: Seed of the row order: ``xxhash64(seed, id)``; the same seed keeps the same rows.
    seed: int = 17
    #: ``sample_weight``: none | inverse | sqrt_inverse | effective_number (Cui et al. 2019).
    weights: Literal["none", "inverse", "sqrt_inverse", "effective_number"] = "none"
    #: β of ``effective_number``: w_c ∝ (1 - β) / (1 - β^n_c).
    beta: float = Field(default=0.999, ge=0.0, lt=1.0)
    filters: RebalanceFilterSettings = Field(default_factory=RebalanceFilterSettings)
    #: Per-group overrides of the plan: ``{ag_news: {strategy: undersample, cap: 1000}}``;
    #: the keys given replace the top-level plan's for that group.
    per_group: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def plan_for(self, group: str | None):
        """The :class:`~refinery.labels.resampling.ResamplePlan` of ``group``."""
        return self.plan_settings(group).plan()

    def plan_settings(self, group: str | None) -> RebalancePlanSettings:
        """The plan settings of ``group``: the top-level plan with its ``per_group`` keys."""
        base = {name: getattr(self, name) for name in RebalancePlanSettings.model_fields}
        return RebalancePlanSettings.model_validate({**base, **self.per_group.get(str(group), {})})

    @model_validator(mode="after")
    def _valid_overrides(self) -> RebalanceSettings:
        for group in self.per_group:
            try:
                self.plan_settings(group)
            except (ValidationError, ValueError) as exc:
                raise ValueError(f"per_group.{group}: {_first_message(exc)}") from None
        return self


class DriftThresholds(_Strict):
    """``drift.thresholds``: a comparison alerts when a statistic crosses its threshold
    (``null`` turns that statistic's alerts off; it is still computed and reported). The
    divergences are in nats (see :mod:`refinery.labels.drift_stats`)."""

    #: KL(window ‖ baseline) above this alerts.
    kl: float | None = Field(default=0.1, gt=0.0)
    #: Jensen–Shannon divergence above this alerts; 0.025 ≈ KL 0.1 for small shifts (JS ≈ KL/4).
    js: float | None = Field(default=0.025, gt=0.0, le=math.log(2))
    #: Population stability index above this alerts (the usual rule: > 0.2 is a significant shift).
    psi: float | None = Field(default=0.2, gt=0.0)
    #: α of the χ² test of homogeneity: a p-value below this alerts.
    p_value: float | None = Field(default=0.01, gt=0.0, lt=1.0)


class DriftDateRange(_Strict):
    """``drift.reference: {start, end}``: the rows whose ``event_ts`` falls on these dates
    (both included, UTC) are the reference distribution."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DriftDateRange:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    def label(self) -> str:
        """``<start>..<end>``, the reference's name in the metrics."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


#: The key of each time window: a day's date, an ISO week, a month.
DRIFT_WINDOW_KEYS = {
    "day": (r"\d{4}-\d{2}-\d{2}", "2024-01-29"),
    "week": (r"\d{4}-W\d{2}", "2024-W05"),
    "month": (r"\d{4}-\d{2}", "2024-01"),
    "batch": (r"[A-Za-z0-9_.:+-]{1,128}", "2024-01-29"),
}


class DriftSettings(_Strict):
    """The ``drift`` job: label and language distributions per window of ``silver``, each
    compared with the previous window and a reference (see :mod:`refinery.drift.job`)."""

    #: ``day`` / ``week`` (ISO, Monday to Sunday) / ``month`` of ``event_ts`` (UTC), or
    #: ``batch``: one window per ``ingest_batch``, in order of their first ``event_ts``.
    window: Literal["day", "week", "month", "batch"] = "week"
    #: What every window is also compared with: ``first`` (each group's first window with at
    #: least ``min_rows`` rows), ``none`` (the previous window only), a window key
    #: (``2024-W05``, ``2024-01-29``, ``2024-01`` or a batch name) or ``{start, end}`` dates.
    reference: DriftDateRange | str = "first"
    #: Additive smoothing α per category of KL and PSI (0.5: Jeffreys / Krichevsky–Trofimov).
    smoothing: float = Field(default=0.5, gt=0.0, le=100.0)
    #: Comparisons where either window has fewer rows (in that distribution) are reported
    #: but never alert: sampling noise alone moves small windows.
    min_rows: int = Field(default=300, ge=1)
    #: χ² test: categories with an expected count under this are pooled (Cochran's rule).
    min_expected: float = Field(default=5.0, ge=0.0)
    #: Drift per value of this silver column (sources have their own label sets); ``None``:
    #: all rows together.
    group_by: str | None = "source"
    #: The categorical distributions compared: ``label`` (labelled rows) and ``lang``.
    distributions: list[Literal["label", "lang"]] = Field(default_factory=lambda: ["label", "lang"])
    thresholds: DriftThresholds = Field(default_factory=DriftThresholds)
    #: Report and alert on only the last N windows of each group (``None``: every window).
    #: Earlier windows are still counted and still serve as the ``previous`` window and the
    #: ``reference`` of the reported ones; their rows are counted as filtered
    #: (``before_last_windows``) and they get no window or statistic rows.
    last_windows: int | None = Field(default=None, ge=1)
    #: Exit with code 3 (:data:`refinery.runtime.runner.EXIT_ALERT`) when any reported comparison
    #: alerts, after the metrics are written, so a scheduler can fail the batch on drift.
    fail_on_alert: bool = False

    @field_validator("reference", mode="before")
    @classmethod
    def _reference_shape(cls, value: Any) -> Any:
        if isinstance(value, date):  # YAML reads an unquoted 2024-01-29 as a date
            return value.isoformat()
        if isinstance(value, dict):
            try:
                return DriftDateRange.model_validate(value)
            except ValidationError as exc:
                message = _first_message(exc).replace("Value error, ", "")
                raise ValueError(f"a date range is {{start: 2024-01-01, end: 2024-01-31}}: {message}") from None
        if not isinstance(value, str | DriftDateRange):
            raise ValueError("use first, none, a window key or {start: DATE, end: DATE}")
        return value

    @field_validator("reference")
    @classmethod
    def _reference_key(cls, value: DriftDateRange | str, info: ValidationInfo) -> DriftDateRange | str:
        window = info.data.get("window")
        if isinstance(value, DriftDateRange) or value in ("first", "none") or window is None:
            return value
        pattern, example = DRIFT_WINDOW_KEYS[window]
        if not re.fullmatch(pattern, value):
            raise ValueError(
                f"{value!r} is not a {window} window key; use first, none, {{start: DATE, end: DATE}} "
                f"or a key like {example}"
            )
        return value

    @field_validator("distributions")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if not value or len(set(value)) != len(value):
            raise ValueError("list each distribution once, at least one: [label], [lang] or [label, lang]")
        return value


def _first_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}" if where else error["msg"]
    return str(exc)


class SelectQcSettings(_Strict):
    """``select.qc``: labelled rows routed to review (the automated quality check)."""

    enabled: bool = True
    #: τ: labelled rows whose ``confidence`` (the score job's EMA) is below it are reviewed.
    min_confidence: float = Field(default=0.85, ge=0.0, le=1.0)
    #: Review rows whose exact duplicate carries another label (dedup's ``label_conflict``).
    label_conflict: bool = True
    #: Review rows with a flagged annotation-rule violation (``rule_violations``).
    rule_violations: bool = True
    #: At most this many QC rows per run, lowest confidence first; ``None`` = all.
    max_rows: int | None = Field(default=None, ge=0)


class SelectSettings(_Strict):
    """The ``select`` job: active learning and QC routing into ``review_queue``
    (see :mod:`refinery.select.job`)."""

    #: Uncertainty sampling over unlabelled rows (see :mod:`refinery.labels.active_learning`).
    strategy: Literal["least_confidence", "margin", "entropy", "random"] = "margin"
    #: Unlabelled rows queued per run, or per group with ``group_by``.
    budget: int = Field(default=100, ge=0)
    #: ``None``: one budget over all unlabelled rows, ranked by raw uncertainty. A silver column
    #: (e.g. ``source``): each of its values gets its own ``budget`` (and its own ``quotas``),
    #: ranked within the group, so a source with many classes, whose uncertainties run higher
    #: (entropy up to ln C), does not take the whole budget from a two-class one.
    group_by: str | None = None
    #: At most this many queued rows per predicted class (``{Sports: 20}``); others unlimited.
    #: With ``group_by``, per class within each group.
    quotas: dict[str, int] = Field(default_factory=dict)
    #: At most one row per dedup cluster (the most uncertain one).
    skip_duplicates: bool = True
    #: Seed of the ``random`` strategy.
    seed: int = 23
    qc: SelectQcSettings = Field(default_factory=SelectQcSettings)
    #: Folder for the review files (``<run_id>/review_queue.jsonl``, ``.csv``,
    #: ``label_studio_tasks.json``); ``None`` writes none. Relative to the working folder.
    export_dir: str | None = "data/review_exports"

    @field_validator("quotas")
    @classmethod
    def _counts(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 0 for v in value.values()):
            raise ValueError("quotas must be counts of at least 0, e.g. {Sports: 20}")
        return value

    @field_validator("export_dir")
    @classmethod
    def _resolved(cls, value: str | None) -> str | None:
        return resolve_path(value) if value is not None else None


class ImportReviewsSettings(_Strict):
    """The ``import_reviews`` job: corrected labels back into ``silver``
    (see :mod:`refinery.reviews.job`)."""

    #: The reviewed file: a Label Studio JSON export, JSONL or CSV with ``id`` and ``label``.
    path: str | None = None
    format: Literal["auto", "label_studio", "jsonl", "csv"] = "auto"
    #: The name of the reviewer or tool recorded as the label's provenance.
    reviewer: str = "review"

    @field_validator("path")
    @classmethod
    def _resolved(cls, value: str | None) -> str | None:
        return resolve_path(value) if value is not None else None


#: Most examples per quality rule the report shows (``report.quality_examples``).
MAX_QUALITY_EXAMPLES = 20


class ReportSettings(_Strict):
    """The ``report`` job: one self-contained HTML page per run (see :mod:`refinery.report.job`)."""

    #: Folder of the reports: each run writes ``<dir>/<run_id>/report.html``. A local folder
    #: (the driver writes the file), relative to the working folder.
    dir: str = "data/reports"
    #: Bins of the confidence histogram over [0, 1].
    confidence_bins: int = Field(default=20, ge=2, le=200)
    #: Examples per quality rule shown in the quality section: silver rows that broke the
    #: rule, their (PII-masked) text truncated. ``0`` shows counts only, no text.
    quality_examples: int = Field(default=2, ge=0, le=MAX_QUALITY_EXAMPLES)

    @field_validator("dir")
    @classmethod
    def _local(cls, value: str) -> str:
        if "://" in value or value.startswith((CATALOG_PREFIX, "file:")):
            raise ValueError(f"{value!r} is not a local folder; fix: name a folder on the driver, e.g. data/reports")
        return resolve_path(value)


class Settings(_Strict):
    """The whole configuration of a Refinery run."""

    app_name: str = "refinery"
    spark: SparkSettings = Field(default_factory=SparkSettings)
    tables: TablesSettings
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    clean: CleanSettings = Field(default_factory=CleanSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    score: ScoreSettings = Field(default_factory=ScoreSettings)
    rebalance: RebalanceSettings = Field(default_factory=RebalanceSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    select: SelectSettings = Field(default_factory=SelectSettings)
    import_reviews: ImportReviewsSettings = Field(default_factory=ImportReviewsSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)


# --------------------------------------------------------------------------------------------
# Loading


def load_settings(conf_files: list[str | os.PathLike[str]], overrides: list[str] | None = None) -> Settings:
    """Read ``conf_files`` in order (each with its ``extends`` chain), apply ``overrides``
    (``dotted.key=value``) and validate.

    Raises :class:`ConfigError` naming the key and the fix.
    """
    if not conf_files:
        raise ConfigError("no config file given: pass --conf conf/local.yaml (or another overlay)")
    merged: dict[str, Any] = {}
    for conf_file in conf_files:
        merged = deep_merge(merged, _read_with_parents(Path(conf_file), seen=()))
    for override in overrides or []:
        apply_override(merged, override)
    return validate_settings(merged)


def validate_settings(raw: dict[str, Any]) -> Settings:
    """Validate a merged mapping, turning pydantic's errors into one :class:`ConfigError`."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc)) from None


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``overlay``: mappings merge key by key, anything else
    (scalars, lists) is replaced."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


#: Free-form mappings whose own keys contain dots: after this prefix the rest is one key.
FREEFORM_MAPPINGS = ("spark.conf",)


def apply_override(tree: dict[str, Any], assignment: str) -> None:
    """Apply one ``dotted.key=value`` to ``tree`` in place; ``value`` is parsed as YAML.

    Keys under :data:`FREEFORM_MAPPINGS` keep their dots:
    ``spark.conf.spark.sql.ansi.enabled=false`` sets the Spark property
    ``spark.sql.ansi.enabled`` inside ``spark.conf``."""
    key, sep, raw_value = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {assignment!r}: expected dotted.key=value, e.g. --set spark.shuffle_partitions=8")
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value {raw_value!r} is not valid YAML ({exc.problem}); quote it") from None
    node: Any = tree
    parts = key.split(".")
    for prefix in FREEFORM_MAPPINGS:
        if key.startswith(prefix + ".") and len(key) > len(prefix) + 1:
            parts = [*prefix.split("."), key[len(prefix) + 1 :]]
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            child = {}
            node[part] = child
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(f"--set {key}: {where} is a {type(child).__name__}, not a mapping; set {where} itself")
        node = child
    node[parts[-1]] = value


def _read_with_parents(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        raise ConfigError(
            f"{seen[-1]}: 'extends' forms a cycle through {resolved}; fix: remove one extends link of the cycle"
        )
    if not resolved.is_file():
        if seen:
            raise ConfigError(
                f"{seen[-1]}: extends: {path} not found; fix: name an existing YAML file, "
                "absolute or relative to the file that extends it"
            )
        raise ConfigError(f"config file {path} not found; fix: pass an existing YAML file to --conf")
    try:
        data = yaml.safe_load(resolved.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_yaml_problem(exc)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); fix: save the file as UTF-8") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys, not a {type(data).__name__}; "
            "fix: write 'key: value' lines at the top level, as in conf/base.yaml"
        )
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(
            f"{path}: extends must be one file path, not a {type(parent).__name__}; fix: e.g. extends: base.yaml"
        )
    base = _read_with_parents(resolved.parent / os.path.expanduser(parent), (*seen, resolved))
    return deep_merge(base, data)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what a YAML syntax error is, without PyYAML's multi-line dump of the text."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    return (
        f"{where}not valid YAML: {what}; fix: correct the syntax there (indent with spaces, not tabs; "
        "close every bracket and quote; quote values that contain ': ' or start with * & ! % @)"
    )


#: The fix named for each kind of pydantic error (``{ge}`` etc. come from the error's context).
_FIXES = {
    "missing": "add it to your config file or pass --set {key}=VALUE",
    "extra_forbidden": "remove it, or check its spelling against conf/base.yaml",
    "literal_error": "use one of the allowed values",
    "greater_than_equal": "use a number >= {ge}",
    "greater_than": "use a number > {gt}",
    "less_than_equal": "use a number <= {le}",
    "less_than": "use a number < {lt}",
    "int_parsing": "use a whole number",
    "int_type": "use a whole number",
    "int_from_float": "use a whole number",
    "float_parsing": "use a number",
    "float_type": "use a number",
    "bool_parsing": "use true or false",
    "bool_type": "use true or false",
    "string_type": "use a string (quote it)",
    "list_type": "use a list, e.g. [a, b]",
    "dict_type": "use a mapping of 'key: value' lines",
    "model_type": "use a mapping of 'key: value' lines",
    "model_attributes_type": "use a mapping of 'key: value' lines",
    "date_from_datetime_parsing": "use a date like 2024-01-29",
    "date_parsing": "use a date like 2024-01-29",
}
_DEFAULT_FIX = "fix the value's type or range as described"


def _describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("function-", "union")))
        # pydantic reports union members as loc parts like 'int' / 'str'; keep the user's key.
        key = ".".join(p for p in key.split(".") if p not in ("int", "str", "list[union[int,str]]")) or "(top level)"
        try:
            fix = _FIXES.get(error["type"], _DEFAULT_FIX).format(key=key, **error.get("ctx", {}))
        except (KeyError, IndexError):
            fix = _DEFAULT_FIX
        if "; fix: " in error["msg"]:  # the validator named the fix itself
            lines.append(f"config key '{key}': {error['msg']}")
        else:
            lines.append(f"config key '{key}': {error['msg']}{_given(error)}; fix: {fix}")
    return "invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines))


def _given(error: dict[str, Any]) -> str:
    """`` (got 'many')`` for a scalar input; nothing for missing keys, mappings and lists."""
    value = error.get("input")
    if error["type"] in ("missing", "extra_forbidden") or not isinstance(value, str | int | float | bool):
        return ""
    shown = repr(value)
    return f" (got {shown[:40]}{'…' if len(shown) > 40 else ''})"


# --------------------------------------------------------------------------------------------
# Output locations


def check_writable(settings: Settings, keys: Iterable[str]) -> None:
    """Raise :class:`ConfigError` naming every key of ``keys`` (``tables.bronze``,
    ``report.dir`` …) whose local location cannot be written: a file where a folder must be
    (the location itself, or a parent), or a folder in which no sub-folder can be created
    (read-only, no permission, a pseudo file system). Checked before Spark starts, so a run
    that could not write its tables stops with exit code 2 and writes nothing.

    What is checked: table locations in local mode, and ``file:`` URIs in any mode (a plain
    path on a cluster is resolved by the cluster's default file system, HDFS for instance,
    which the driver cannot see); ``report.dir``, ``select.export_dir`` and ``score.work_dir``
    always, since the driver writes them itself. Catalog tables and other URI schemes are
    left to Spark. Nothing is created: the check makes and removes one empty probe folder in
    the nearest existing folder."""
    problems = []
    for key in keys:
        section, name = key.split(".", 1)
        location = getattr(getattr(settings, section), name)
        path = _local_path(location, is_table=section == "tables", local_mode=settings.spark.mode == "local")
        if path is None:
            continue
        problem = _write_problem(path)
        if problem is not None:
            problems.append(
                f"config key '{key}': {location} cannot be written: {problem}; fix: point {key} at a folder "
                "this user can create and write (a path under a writable folder, not under a file)"
            )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def _local_path(location: str | None, is_table: bool, local_mode: bool) -> Path | None:
    if location is None or location.startswith(CATALOG_PREFIX):
        return None
    if location.startswith("file:"):
        rest = location[len("file:") :]
        return Path("/" + rest.lstrip("/")) if rest.startswith("//") or rest.startswith("/") else Path(rest).resolve()
    if "://" in location or (is_table and not local_mode):
        return None
    return Path(location)


def _write_problem(path: Path) -> str | None:
    """Why no folder can be created (or written) at ``path``, or ``None`` when it can."""
    existing = path
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        if existing == path:
            return f"{path} is a file, not a folder"
        return f"{existing} is a file, not a folder, so nothing can be created under it"
    probe = existing / f".refinery-write-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError as exc:
        return f"cannot create folders in {existing} ({exc.strerror or exc})"
    probe.rmdir()
    return None


def rules_file(path: str) -> Path:
    """The rules file that ``clean.rules`` names: an absolute path as it is; a relative one
    from the working directory, else from ``REFINERY_HOME`` (the project root), so
    ``conf/rules.yaml`` is found wherever the job is started from."""
    given = Path(os.path.expanduser(path))
    if given.is_absolute():
        candidates = [given]
    else:
        candidates = [Path.cwd() / given]
        home = os.environ.get("REFINERY_HOME")
        if home:
            candidates.append(Path(home) / given)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = " or ".join(str(c) for c in candidates)
    raise RuleError(
        f"no rules file at {tried}; fix: give an existing YAML file (absolute, or relative to the working "
        "directory or REFINERY_HOME), or null for no rules"
    )


def resolve_path(path: str, root: str | os.PathLike[str] | None = None) -> str:
    """``path`` made absolute against ``root`` (default: the working directory), unless it
    carries a URI scheme (``s3a://``, ``hdfs://``, ``file:``) or names a catalog table."""
    if path.startswith(CATALOG_PREFIX) or "://" in path or path.startswith("file:"):
        return path
    base = Path(root) if root is not None else Path.cwd()
    return str((base / os.path.expanduser(path)).resolve())
