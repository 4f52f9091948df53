"""Unit tests of :mod:`refinery.text.pii.network`: dotted versions that are IPv4 addresses and the
public-IP-only option."""

from __future__ import annotations

from refinery.text.pii import (
    IPV4,
    IPV6,
    PiiOptions,
)
from tests.support.pii_cases import found


def test_version_number_that_is_a_valid_ipv4_is_an_ip() -> None:
    assert found("version 1.2.3.4 released") == [(IPV4, "1.2.3.4")]


def test_public_ip_only() -> None:
    text = (
        "lan 10.0.0.1, lo 127.0.0.1, ll 169.254.1.1, doc 192.0.2.1, dns 8.8.8.8, "
        "v6 ::1 fe80::1 2001:db8::1 2606:4700:4700::1111"
    )
    public = PiiOptions(public_ip_only=True)
    assert [t for _, t in found(text, public)] == ["8.8.8.8", "2606:4700:4700::1111"]
    assert len(found(text)) == 9
    assert found("mapped ::ffff:10.0.0.1", public) == []
    assert found("mapped ::ffff:8.8.4.4", public) == [(IPV6, "::ffff:8.8.4.4")]
