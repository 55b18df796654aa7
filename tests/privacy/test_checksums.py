"""Checksummed identifiers: hand-computed cases, and python-stdnum as an oracle."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.fr import nir as std_nir
from stdnum.fr import siren as std_siren
from stdnum.fr import siret as std_siret
from stdnum.us import ssn as std_ssn

from labelloop.privacy import detect
from labelloop.privacy.banking import IBAN_LENGTHS, card_issuer_ok
from labelloop.privacy.checksums import luhn_valid, mod97_iban_valid
from labelloop.privacy.national_ids import nir_key, nir_valid, siren_valid, siret_valid, ssn_valid

PATTERNS = ("iban", "card", "fr_nir", "fr_siren", "fr_siret", "us_ssn")


def kinds_in(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in detect(text, kinds=PATTERNS)]


def test_luhn_by_hand() -> None:
    # 7992739871 + check 3: the textbook example (doubling from the right gives a sum of 70).
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")
    assert not luhn_valid("1234a")


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_luhn_matches_stdnum(digits: str) -> None:
    assert luhn_valid(digits) == std_luhn.is_valid(digits)


def test_iban_by_hand() -> None:
    assert mod97_iban_valid("GB82WEST12345698765432")  # the registry's example
    assert not mod97_iban_valid("GB82WEST12345698765433")
    assert kinds_in("IBAN GB82 WEST 1234 5698 7654 32, merci") == [("iban", "GB82 WEST 1234 5698 7654 32")]
    assert kinds_in("IBAN GB82 WEST 1234 5698 7654 33") == []  # checksum fails: not a finding
    # Exactly the country's length is read: a capitalised word after it is not swallowed.
    assert kinds_in("FR7630006000011234567890189 BNP") == [("iban", "FR7630006000011234567890189")]
    assert kinds_in("fr76 3000 6000 0112 3456 7890 189") == [("iban", "fr76 3000 6000 0112 3456 7890 189")]


def test_iban_lengths_match_stdnum_registry() -> None:
    from stdnum import numdb

    registry = numdb.get("iban")
    for country, length in IBAN_LENGTHS.items():
        info = registry.info(country)
        assert info[0][1], f"{country} unknown to stdnum"
        bban = info[0][1].get("bban", "")
        # SWIFT notation: "4!a6!n8!c" is 4 letters, 6 digits, 8 characters.
        sizes = [int(n) for n in re.findall(r"(\d+)!?[nac]", bban)]
        if sizes:
            assert 4 + sum(sizes) == length, country


@settings(deadline=None, max_examples=200)
@given(st.sampled_from(sorted(IBAN_LENGTHS)), st.data())
def test_iban_checks_match_stdnum(country: str, data: st.DataObject) -> None:
    body = data.draw(st.text(alphabet="0123456789", min_size=IBAN_LENGTHS[country] - 4,
                             max_size=IBAN_LENGTHS[country] - 4))
    check = 98 - int("".join(str(int(c, 36)) for c in body + country + "00")) % 97
    number = f"{country}{check:02d}{body}"
    assert mod97_iban_valid(number)
    # stdnum also checks national rules inside some BBANs; where it accepts, so must we.
    if std_iban.is_valid(number):
        assert [f.kind for f in detect(number, kinds=["iban"])] == ["iban"]


def test_cards_by_hand() -> None:
    for number in ("4111 1111 1111 1111", "5555-5555-5555-4444", "3782 822463 10005", "6011111111111117",
                   "3530111333300000", "2223000048400011"):
        assert kinds_in(f"card {number}.") == [("card", number)], number
    assert kinds_in("card 4111 1111 1111 1112") == []  # Luhn fails
    assert kinds_in("order 1234567812345670") == []  # Luhn passes, but no issuer starts with 1234
    assert not card_issuer_ok("9111111111111111")
    # Inside a longer run of groups, the card's own groups are taken.
    assert kinds_in("4111 1111 1111 1111 2026") == [("card", "4111 1111 1111 1111")]


def test_nir_by_hand_and_corsica() -> None:
    # 1 84 05 76 451 089: 97 - (1840576451089 mod 97) = 31.
    assert nir_key("1840576451089") == 31
    assert kinds_in("NIR 1 84 05 76 451 089 31") == [("fr_nir", "1 84 05 76 451 089 31")]
    assert kinds_in("NIR 1 84 05 76 451 089 32") == []
    # Corsica: 2A counts as 19, 2B as 18.
    assert nir_key("155032A102345") == 97 - 1550319102345 % 97
    assert nir_valid("155032A10234578") and std_nir.is_valid("155032A10234578")
    assert kinds_in("n° 2 87 02 2B 123 456 58.") == [("fr_nir", "2 87 02 2B 123 456 58")]
    assert not nir_valid("184135764510890")  # month 13 does not exist


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="0123456789", min_size=13, max_size=13).map(lambda s: "1" + s[1:]))
def test_nir_matches_stdnum(first13: str) -> None:
    number = first13 + f"{nir_key(first13):02d}"
    month = int(number[3:5])
    if 1 <= month <= 12:
        assert nir_valid(number) and std_nir.is_valid(number)
    wrong = number[:13] + f"{(int(number[13:]) % 97) + 1:02d}"
    assert not nir_valid(wrong)


def test_siren_siret_by_hand() -> None:
    assert siren_valid("732829320") and not siren_valid("732829321")
    assert siret_valid("55210055400013") and std_siret.is_valid("55210055400013")
    # La Poste: one SIREN for every office, digit sum a multiple of 5 instead of Luhn.
    assert siret_valid("35600000049837") and std_siret.is_valid("35600000049837")
    assert not siret_valid("35600000049838")
    assert kinds_in("SIREN 732 829 320, SIRET 552 100 554 00013") == [
        ("fr_siren", "732 829 320"), ("fr_siret", "552 100 554 00013")]
    assert kinds_in("SIREN 732 829 321") == []


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_siren_siret_match_stdnum(digits: str) -> None:
    assert siren_valid(digits[:9]) == std_siren.is_valid(digits[:9])
    assert siret_valid(digits) == std_siret.is_valid(digits)


def test_ssn_rules() -> None:
    assert kinds_in("SSN 078-05-1120") == [("us_ssn", "078-05-1120")]
    for bad in ("000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"):
        assert kinds_in(f"SSN {bad}") == [], bad
    # Nine plain digits are an SSN only next to the word.
    assert kinds_in("social security number 078051120") == [("us_ssn", "078051120")]


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_ssn_matches_stdnum(d: str) -> None:
    ours = ssn_valid(d[:3], d[3:5], d[5:])
    # stdnum also refuses a blacklist of advertised numbers (078-05-1120 among them): a subset.
    if std_ssn.is_valid(d):
        assert ours


@pytest.mark.parametrize("text", ["1.5", "Ref A4111111111111111", "4111111111111111x"])
def test_numbers_glued_to_letters_are_not_found(text: str) -> None:
    assert kinds_in(text) == []
