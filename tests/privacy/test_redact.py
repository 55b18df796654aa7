"""Placeholders consistent within an item, and offsets mapped between redacted and original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.privacy import Finding, detect, masked, placeholders, resolve_overlaps


def test_placeholders_are_numbered_per_label_and_consistent() -> None:
    text = "Jean Dupont wrote to ana@x.org; jean  dupont and Ana Lima too. ana@x.org again."
    def at(surface: str, kind: str, nth: int = 0) -> Finding:
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        return Finding(start, start + len(surface), kind, surface)

    findings = [at("Jean Dupont", "person"), at("ana@x.org", "email"), at("jean  dupont", "person"),
                at("Ana Lima", "person"), at("ana@x.org", "email", 1)]
    red = placeholders(text, findings)
    assert red.text == ("[PERSON_1] wrote to [EMAIL_1]; [PERSON_1] and [PERSON_2] too. [EMAIL_1] again.")
    assert red.legend == {"[PERSON_1]": "Jean Dupont", "[EMAIL_1]": "ana@x.org", "[PERSON_2]": "Ana Lima"}
    # A span on the redacted text ("[PERSON_2] too") goes back to the original words.
    start = red.text.index("[PERSON_2]")
    s, e = red.offsets.span_to_original(start, start + len("[PERSON_2] too"))
    assert text[s:e] == "Ana Lima too"
    # A span starting inside a placeholder grows to the whole finding.
    lima = findings[3]
    assert red.offsets.span_to_original(start + 3, start + 5) == (lima.start, lima.end)


def test_bad_findings_are_refused() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        placeholders("abcdef", [Finding(0, 3, "person", "abc"), Finding(2, 5, "person", "cde")])
    with pytest.raises(ValueError, match="outside"):
        placeholders("abc", [Finding(1, 9, "person", "bc")])


def test_masked_keeps_offsets() -> None:
    text = "IBAN GB82 WEST 1234 5698 7654 32 ok"
    out = masked(text, detect(text, kinds=["iban"]))
    assert out == "IBAN •••• •••• •••• •••• •••• •• ok" and len(out) == len(text)


@st.composite
def text_and_findings(draw: st.DrawFn) -> tuple[str, list[Finding]]:
    text = draw(st.text(alphabet="ab [_]1\n", max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=10)))
    findings = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        if a < b:
            findings.append(Finding(a, b, draw(st.sampled_from(["person", "email", "phone"])), text[a:b]))
    return text, resolve_overlaps(findings)


@settings(deadline=None)
@given(text_and_findings(), st.data())
def test_spans_outside_findings_map_there_and_back(case: tuple[str, list[Finding]], data: st.DataObject) -> None:
    text, findings = case
    red = placeholders(text, findings)
    s = data.draw(st.integers(0, len(text)))
    e = data.draw(st.integers(s, len(text)))
    if any(f.start < e and f.end > s for f in findings) or any(f.start < p < f.end for f in findings
                                                              for p in (s, e)):
        return
    rs, re_ = red.offsets.span_to_redacted(s, e)
    assert red.text[rs:re_] == text[s:e]
    assert red.offsets.span_to_original(rs, re_) == (s, e)


@settings(deadline=None)
@given(text_and_findings())
def test_every_placeholder_maps_to_its_finding(case: tuple[str, list[Finding]]) -> None:
    text, findings = case
    red = placeholders(text, findings)
    for f, (rs, re_) in zip(findings, red.offsets.redacted, strict=True):
        token = red.text[rs:re_]
        assert red.legend[token].casefold().split() == text[f.start:f.end].casefold().split()
        assert red.offsets.span_to_original(rs, re_) == (f.start, f.end)
        assert red.offsets.span_to_redacted(f.start, f.end) == (rs, re_)
