"""What to find and what to replace it with: :class:`PiiOptions`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers

from refinery.text.pii.types import ALL_TYPES, CN_ID, CN_ID_INVALID, DEFAULT_PHONE_REGIONS, DEFAULT_TOKENS


@dataclass(frozen=True)
class PiiOptions:
    """What to find and what to replace it with. Frozen, hashable and picklable (Spark ships it
    to executors and caches compiled plans by it).

    ``types``: the types to find (any order; unknown names raise ``ValueError``).
    ``tokens``: a mapping or ``(type, token)`` pairs; given entries override
    :data:`DEFAULT_TOKENS`, the rest keep their default. It is stored as a sorted tuple of pairs
    (a ``dict`` is not hashable, a ``MappingProxyType`` is not picklable); read it with
    :meth:`token` or :meth:`token_map`. ``CN_ID_INVALID`` always takes ``CN_ID``'s token.
    ``public_ip_only``: when true, an IP address is PII only if it is globally routable
    (``ipaddress``'s ``is_global`` and not multicast): private, loopback, link-local,
    unspecified, reserved and documentation addresses are left in the text.
    ``phone_regions``: regions whose national phone formats are read (see the module
    docstring); unknown codes raise ``ValueError``.
    """

    types: tuple[str, ...] = ALL_TYPES
    tokens: tuple[tuple[str, str], ...] | Mapping[str, str] = DEFAULT_TOKENS
    public_ip_only: bool = False
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS

    def __post_init__(self) -> None:
        types = tuple(dict.fromkeys(self.types))
        unknown = sorted(set(types) - set(ALL_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {list(ALL_TYPES)}")
        pairs: Iterable[tuple[str, str]] = self.tokens.items() if isinstance(self.tokens, Mapping) else self.tokens
        merged = dict(DEFAULT_TOKENS)
        for name, token in pairs:
            if name not in merged:
                raise ValueError(f"token given for unknown PII type {name!r}")
            if not isinstance(token, str):
                raise TypeError(f"token for {name} must be a str")
            merged[name] = token
        regions = tuple(dict.fromkeys(self.phone_regions))
        bad = sorted(region for region in regions if region not in phonenumbers.SUPPORTED_REGIONS)
        if bad:
            raise ValueError(
                f"unknown phone regions {bad}; use ISO 3166-1 alpha-2 codes libphonenumber supports (GB, not UK)"
            )
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "tokens", tuple(sorted(merged.items())))
        object.__setattr__(self, "public_ip_only", bool(self.public_ip_only))
        object.__setattr__(self, "phone_regions", regions)

    def token(self, pii_type: str) -> str:
        """The replacement token for one type (``CN_ID_INVALID``: ``CN_ID``'s)."""
        return self.token_map()[pii_type]

    def token_map(self) -> dict[str, str]:
        """All replacement tokens as a fresh ``dict``, ``CN_ID_INVALID`` included."""
        tokens = dict(self.tokens)
        tokens[CN_ID_INVALID] = tokens[CN_ID]
        return tokens


DEFAULT = PiiOptions()
