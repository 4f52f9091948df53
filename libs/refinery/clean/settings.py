"""``clean``: normalization, language id, segmentation, PII masking, annotation and quality rules
(see :mod:`refinery.clean.job`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from refinery.clean.annotation_rules import AnnotationRuleError, RuleSet, load_rules, parse_rules
from refinery.config.base import Strict
from refinery.config.paths import rules_file
from refinery.text.langid import LangIdOptions
from refinery.text.normalize import NormalizeOptions
from refinery.text.pii import ALL_TYPES, DEFAULT_PHONE_REGIONS, PiiOptions
from refinery.text.segment import SegmentOptions

# Each default is stated once: where the pure layer (refinery.text) has an options dataclass,
# the field's default is read from it (``NormalizeOptions.nfkc`` is the dataclass's default).
_N, _L, _S = NormalizeOptions, LangIdOptions, SegmentOptions


class NormalizeSettings(Strict):
    """``clean.normalize``: which normalization steps run (see :mod:`refinery.text.normalize`);
    the fields and defaults of :class:`~refinery.text.normalize.NormalizeOptions`."""

    mojibake: bool = _N.mojibake
    html: bool = _N.html
    control: bool = _N.control
    nfkc: bool = _N.nfkc
    whitespace: bool = _N.whitespace
    #: Traditional → Simplified Chinese (OpenCC); off by default, it rewrites characters.
    t2s: bool = _N.t2s
    #: Keep full-width CJK punctuation (，。！？) through NFKC: right for Chinese training text.
    keep_cjk_punct: bool = _N.keep_cjk_punct
    keep_newlines: bool = _N.keep_newlines

    def options(self) -> NormalizeOptions:
        """This section as the pure layer's options."""
        return NormalizeOptions(**self.model_dump())


class LangIdSettings(Strict):
    """``clean.langid`` (see :mod:`refinery.text.langid`); defaults from
    :class:`~refinery.text.langid.LangIdOptions`."""

    backend: Literal["ensemble", "fasttext", "langdetect", "lingua"] = _L.backend  # type: ignore[assignment]
    #: Candidate languages (ISO 639-1); ``None`` lets the backend answer any language.
    languages: list[str] | None = None
    min_score: float = Field(default=_L.min_score, ge=0.0, le=1.0)
    short_text_chars: int = Field(default=_L.short_text_chars, ge=0)
    #: Latin-script texts with fewer letters get the short-text vote of fastText and lingua; 0: off.
    short_vote_chars: int = Field(default=_L.short_vote_chars, ge=0)
    mixed_min_share: float = Field(default=_L.mixed_min_share, ge=0.0, le=1.0)

    def options(self) -> LangIdOptions:
        """This section as the pure layer's options."""
        languages = tuple(self.languages) if self.languages is not None else None
        return LangIdOptions(**self.model_dump(exclude={"languages"}), languages=languages)


class SegmentSettings(Strict):
    """``clean.segment`` (see :mod:`refinery.text.segment`)."""

    #: Segment at all. Off: silver's ``tokens`` and ``n_tokens`` are null ("not computed",
    #: unlike ``[]``: text without words), for pipelines that only need clean, tagged, masked
    #: text (the step's share of the chain: ``bench/results/chain.json``).
    enabled: bool = True
    engine: Literal["jieba", "rjieba"] = _S.engine  # type: ignore[assignment]
    hmm: bool = _S.hmm
    #: jieba user dictionary (``word freq tag`` lines), relative to the working directory.
    user_dict: str | None = _S.user_dict
    #: Where jieba caches its prefix dictionary; ``None`` = a per-user temp folder.
    cache_dir: str | None = _S.cache_dir
    lowercase: bool = _S.lowercase

    def options(self) -> SegmentOptions:
        """This section as the pure layer's options (``enabled`` is the chain's switch)."""
        return SegmentOptions(**self.model_dump(exclude={"enabled"}))


class PiiSettings(Strict):
    """``clean.pii`` (see :mod:`refinery.text.pii`)."""

    #: PII types to mask; ``None`` = all supported types.
    types: list[str] | None = None
    #: Replacement token per type, overriding the defaults (``EMAIL: "<EMAIL>"``).
    tokens: dict[str, str] = Field(default_factory=dict)
    #: Mask only public IP addresses (private, loopback and reserved ranges are kept).
    public_ip_only: bool = PiiOptions.public_ip_only
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


def pii_options(pii: PiiSettings) -> PiiOptions:
    """The :class:`refinery.text.pii.PiiOptions` that ``clean.pii`` describes (``meta`` is the
    clean chain's switch, not the masker's)."""
    return PiiOptions(
        types=tuple(pii.types) if pii.types is not None else ALL_TYPES,
        tokens=pii.tokens,  # overrides the defaults type by type
        public_ip_only=pii.public_ip_only,
        phone_regions=tuple(pii.phone_regions) if pii.phone_regions is not None else DEFAULT_PHONE_REGIONS,
    )


class QualitySettings(Strict):
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


class CleanSettings(Strict):
    """The ``clean`` job: ``bronze`` → ``silver``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)  # rules: a RuleSet once validated

    #: The ``ingest_batch`` to clean; ``None`` cleans all of bronze.
    batch: str | None = None
    normalize: NormalizeSettings = Field(default_factory=NormalizeSettings)
    langid: LangIdSettings = Field(default_factory=LangIdSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    pii: PiiSettings = Field(default_factory=PiiSettings)
    #: Languages kept in silver; ``None`` keeps every language.
    allowed_languages: list[str] | None = Field(default_factory=lambda: ["zh", "en"])
    #: What happens to a document in another language: ``quarantine`` it or ``flag`` it (kept
    #: in silver with ``lang_allowed = false``, so that nothing is lost to a wrong detection).
    on_disallowed_language: Literal["quarantine", "flag"] = "flag"
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
        except (AnnotationRuleError, FileNotFoundError) as exc:  # FileNotFoundError: from rules_file
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
