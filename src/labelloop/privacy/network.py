"""IP addresses, validated by the standard library's ``ipaddress`` parser."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from labelloop.privacy.findings import Finding

# Candidates only; ipaddress decides (it refuses octets over 255 and leading zeros).
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# Hex groups and colons (with an optional dotted IPv4 tail), at least two colons.
_IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?"
    r"(?![\w:]|\.\w)"
)


def find_ipv4(text: str) -> Iterator[Finding]:
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        yield Finding(m.start(), m.end(), "ipv4", m.group())


def find_ipv6(text: str) -> Iterator[Finding]:
    """IPv6 addresses; a bare "::" is not an address worth hiding, nor is anything without a digit
    (a word like "be:ef" is text)."""
    for m in _IPV6.finditer(text):
        candidate = m.group()
        if candidate == "::" or not any(ch.isdigit() for ch in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Finding(m.start(), m.end(), "ipv6", candidate)
