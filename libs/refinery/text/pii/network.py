"""Internet identifiers: e-mail addresses, IPv4 and IPv6 addresses (``ipaddress``) and URLs
that carry a secret (``user:pass@host`` or a ``token=``-like query parameter)."""

from __future__ import annotations

import ipaddress
import re

from refinery.text.pii.options import PiiOptions


def ip_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast: ``is_global`` (IANA special-purpose registries: excludes
    private, loopback, link-local, shared, documentation and reserved ranges) and not multicast.
    An IPv4-mapped IPv6 address is judged by its IPv4 part."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9_%+\-])[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9\-]{1,59})(?![A-Za-z0-9\-])"
)

_IPV4_RE = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?P<pfx>/[0-9]{1,3})?")
_IPV6_RE = re.compile(
    r"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f]{0,4}:)(?P<addr>[0-9A-Fa-f:.]{2,45})"
    r"(?P<zone>%[0-9A-Za-z_\-]{1,16})?(?P<pfx>/[0-9]{1,4})?"
)

_URL_RE = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,15}://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_URL_TRAILING = ".,;:!?'()[]"
_SECRET_KEYS = frozenset(
    {"token", "access_token", "refresh_token", "id_token", "auth_token", "api_key", "apikey", "key", "secret"}
    | {"client_secret", "password", "passwd", "pwd", "sig", "signature", "auth", "credential", "private_token"}
)
_SECRET_SUFFIXES = ("_token", "_key", "_secret", "signature", "password", "_credential")
_SECRET_MIN_VALUE = 4


def _check_email(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    local, domain = match.group().split("@", 1)
    if local.endswith(".") or ".." in local:
        return None
    labels = domain.split(".")
    if labels[-1].istitle() and labels[-2].islower():
        return None  # "msg+ticket@kiosk.Valid": a sentence run into the next one, not a TLD
    return match.span()


def _ip_ok(address: ipaddress.IPv4Address | ipaddress.IPv6Address, options: PiiOptions) -> bool:
    return ip_is_public(address) if options.public_ip_only else True


def _prefix_end(match: re.Match[str], text: str, limit: int) -> int | None:
    """End of a valid ``/prefix`` suffix (length <= ``limit`` and not followed by another digit),
    or ``None`` when there is none or it is invalid (then only the address is taken)."""
    prefix = match.group("pfx")
    if prefix is None or int(prefix[1:]) > limit:
        return None
    end = match.end("pfx")
    return None if end < len(text) and text[end].isdigit() else end


def _right_boundary_ok(text: str, end: int, colon_ok: bool) -> bool:
    """An address must not continue into letters or digits, nor into ".<digit>", nor (IPv6) into
    ":" (an IPv4 may: "8.8.8.8:53" is an address and a port)."""
    if end >= len(text):
        return True
    char = text[end]
    if (char.isascii() and char.isalnum()) or (char == ":" and not colon_ok):
        return False
    return not (char == "." and end + 1 < len(text) and text[end + 1].isdigit())


def _check_ipv4(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    start = match.start()
    addr_end = match.start("pfx") if match.group("pfx") is not None else match.end()
    end = _prefix_end(match, text, 32) or addr_end  # "10.0.0.0/123": the address is PII, the suffix is not
    if not _right_boundary_ok(text, end, colon_ok=True):
        return None  # inside a longer token or a longer dotted-number run (OIDs, versions)
    try:
        address = ipaddress.IPv4Address(text[start:addr_end])  # rejects octets > 255 and leading zeros
    except ValueError:
        return None
    return (start, end) if _ip_ok(address, options) else None


def _check_ipv6(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    start = match.start()
    addr, zone = match.group("addr"), match.group("zone") or ""
    if addr.endswith("."):
        if zone or match.group("pfx") is not None:
            return None
        addr = addr.rstrip(".")  # a sentence full stop after the address: "… 2001:db8::1."
    addr_end = start + len(addr) + len(zone)
    end = _prefix_end(match, text, 128) or addr_end
    if not _right_boundary_ok(text, end, colon_ok=False):
        return None  # "fe80::1text", "12345:db8::1", or a run longer than any address
    try:
        address = ipaddress.IPv6Address(addr + zone)  # full, compressed, embedded-IPv4 and %zone forms
    except ValueError:
        return None
    if addr == "::" and _bare_separator(text, start, start + 2):
        return None
    return (start, end) if _ip_ok(address, options) else None


def _bare_separator(text: str, start: int, end: int) -> bool:
    """A bare ``::`` with whitespace on both sides is a separator ("Home :: News"), not an
    address; ``src=::`` or a trailing "ipv6 ::" stay addresses."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before.isspace() and after.isspace()


def _secret_param(query: str) -> bool:
    for pair in re.split(r"[&;]", query):
        key, sep, value = pair.partition("=")
        if not sep or len(value) < _SECRET_MIN_VALUE:
            continue
        name = key.strip().lower().replace("-", "_")
        if name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES):
            return True
    return False


def _check_url(match: re.Match[str], text: str, options: PiiOptions, context: bool) -> tuple[int, int] | None:
    start = match.start()
    url = match.group().rstrip(_URL_TRAILING)
    if not url:
        return None
    rest = url.split("://", 1)[1]
    authority_end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority = rest[:authority_end]
    if "@" in authority:
        user, sep, password = authority.rpartition("@")[0].partition(":")
        if user and sep and password:
            return start, start + len(url)
    tail = rest[authority_end:]
    query = tail.split("?", 1)[1] if "?" in tail else ""
    fragment = tail.split("#", 1)[1] if "#" in tail else ""
    if _secret_param(query.split("#", 1)[0]) or _secret_param(fragment):
        return start, start + len(url)
    return None
