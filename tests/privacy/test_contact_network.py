"""E-mail addresses, phone numbers and IP addresses."""

from __future__ import annotations

import pytest

from labelloop.privacy import detect


def found(text: str, kinds: list[str]) -> list[str]:
    return [f.text for f in detect(text, kinds=kinds)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Mail <john.o'brien+tag@mail.example.co.uk>.", ["john.o'brien+tag@mail.example.co.uk"]),
    ('"bob@x.io", mailto:a_b@ex-ample.com.', ["bob@x.io", "a_b@ex-ample.com"]),
    ("élodie.dupré@société.fr", ["élodie.dupré@société.fr"]),
    ("end of sentence: jane@example.org.", ["jane@example.org"]),
    ("x@y and user@localhost and a@b.c and john@@x.com", []),
])
def test_emails(text: str, expected: list[str]) -> None:
    assert found(text, ["email"]) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Call (415) 867-5309 today", ["(415) 867-5309"]),
    ("UK: +44 20 7946 0958.", ["+44 20 7946 0958"]),
    ("Paris 01 42 68 53 00, mobile +33 6.12.34.56.78", ["01 42 68 53 00", "+33 6.12.34.56.78"]),
    ("Berlin 030 901820 oder +49 (0) 9141 777631", ["030 901820", "+49 (0) 9141 777631"]),
    ("ext: +1 (415) 867-5309 ext. 12", ["+1 (415) 867-5309 ext. 12"]),
    ("order 12, room 101, year 2024", []),
])
def test_phones(text: str, expected: list[str]) -> None:
    assert found(text, ["phone"]) == expected


def test_phone_regions_are_a_setting() -> None:
    # A French national number is only read when France is among the regions.
    assert found("appelez le 04 72 10 30 30", ["phone"]) == ["04 72 10 30 30"]
    assert [f.text for f in detect("appelez le 04 72 10 30 30", kinds=["phone"], regions=["US"])] == []
    with pytest.raises(ValueError, match="XX"):
        detect("x", kinds=["phone"], regions=["XX"])


@pytest.mark.parametrize(("text", "expected"), [
    ("from 192.168.1.20.", ["192.168.1.20"]),
    ("bad 999.10.10.10 and 1.2.3 and 01.02.03.04", []),
    ("v6 2001:db8::8a2e:370:7334, loop ::1, mapped ::ffff:192.0.2.128", ["2001:db8::8a2e:370:7334", "::1",
                                                                          "::ffff:192.0.2.128"]),
    ("at 12:30:45 see std::vector and be:ef", []),
])
def test_ip_addresses(text: str, expected: list[str]) -> None:
    assert found(text, ["ipv4", "ipv6"]) == expected


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="passport"):
        detect("x", kinds=["passport"])
