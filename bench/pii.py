"""Benchmark of personal-data detection (labelloop.privacy) on text with known spans.

Run with ``make bench-pii`` (or ``python bench/pii.py``). Prints tables and, as its last line, one
JSON object (also written to bench/results/pii.json):

1. precision and recall per kind on a generated corpus (bench/pii_corpus.py: Faker en_US, fr_FR and
   de_DE values in sentences, CSV-like tables and e-mails, 1,500 documents per locale, seed 14),
   with every detector on and the language of each document guessed, as at import. A finding is a
   true positive when it overlaps a planted span of the same kind; a planted span is found when a
   finding of its kind overlaps it. The exact-boundary figures (same start and end) are shown beside.
2. the same on a hand-written held-out set (tests/privacy/heldout.txt) in formats the generator never
   writes (lower-case and dashed IBANs, Amex grouping, dotted and "ext." phones, Corsican NIRs,
   compressed IPv6, names not drawn by Faker) with near-miss numbers that must not be found; the
   detectors were never tuned on the generated corpus's formats, and this set checks they do not
   depend on them.
3. items per second of the pattern detectors alone, one process (the import job's cost without
   NER), best of two passes over the corpus; and of the full detection with NER, for scale;
4. what the audit log costs one annotator's queue cycle on SQLite (bench/audit_cost.py), which the
   issue asks to see beside these figures.

Each measurement is one function returning a dict of figures; ``MEASUREMENTS`` lists them.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "pii.json"
HELDOUT = ROOT / "tests" / "privacy" / "heldout.txt"
N_PER_LOCALE = int(os.environ.get("PII_BENCH_DOCS", "1500"))

sys.path.insert(0, str(ROOT / "src"))
from common import run_measurements  # noqa: E402
from labelloop.privacy import CHECKSUMMED_KINDS, KINDS, PATTERN_KINDS, detect_many  # noqa: E402
from labelloop.privacy.findings import Finding  # noqa: E402
from pii_corpus import Doc, corpus  # noqa: E402

Span = tuple[int, int, str]


class Score:
    """Counts per kind (and per locale for persons) of planted, found, and exact matches."""

    def __init__(self) -> None:
        self.c: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, planted: Iterable[Span], found: Iterable[Finding], group: str) -> None:
        planted, found = list(planted), list(found)
        for s, e, k in planted:
            hit = [f for f in found if f.kind == k and f.start < e and f.end > s]
            self.c[(k, "planted")] += 1
            self.c[(k, "recalled")] += bool(hit)
            self.c[(k, "recalled_exact")] += any(f.start == s and f.end == e for f in hit)
            self.c[(k + "@" + group, "planted")] += 1
            self.c[(k + "@" + group, "recalled")] += bool(hit)
        for f in found:
            hit = [(s, e) for s, e, k in planted if k == f.kind and f.start < e and f.end > s]
            self.c[(f.kind, "found")] += 1
            self.c[(f.kind, "correct")] += bool(hit)
            self.c[(f.kind + "@" + group, "found")] += 1
            self.c[(f.kind + "@" + group, "correct")] += bool(hit)
            self.c[(f.kind, "correct_exact")] += (f.start, f.end) in hit

    def recall(self, kinds: Iterable[str], exact: bool = False) -> float | None:
        n = sum(self.c[(k, "planted")] for k in kinds)
        key = "recalled_exact" if exact else "recalled"
        return sum(self.c[(k, key)] for k in kinds) / n if n else None

    def precision(self, kinds: Iterable[str], exact: bool = False) -> float | None:
        n = sum(self.c[(k, "found")] for k in kinds)
        key = "correct_exact" if exact else "correct"
        return sum(self.c[(k, key)] for k in kinds) / n if n else None

    def table(self, title: str) -> dict[str, Any]:
        print(f"\n{title}")
        print(f"{'kind':<14}{'planted':>8}{'found':>7}{'recall':>8}{'prec.':>7}{'exact R':>9}{'exact P':>9}")
        rows: dict[str, Any] = {}

        def fmt(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        for k in KINDS:
            if not (self.c[(k, "planted")] or self.c[(k, "found")]):
                continue
            row = {"planted": self.c[(k, "planted")], "found": self.c[(k, "found")],
                   "recall": self.recall([k]), "precision": self.precision([k]),
                   "recall_exact": self.recall([k], True), "precision_exact": self.precision([k], True)}
            rows[k] = row
            print(f"{k:<14}{row['planted']:>8}{row['found']:>7}{fmt(row['recall']):>8}"
                  f"{fmt(row['precision']):>7}{fmt(row['recall_exact']):>9}{fmt(row['precision_exact']):>9}")
        return rows


def generated() -> dict[str, Any]:
    """Precision and recall per kind on the generated corpus, all detectors, languages guessed."""
    docs, redrawn = corpus(N_PER_LOCALE)
    start = time.perf_counter()
    found = detect_many([d.text for d in docs])
    seconds = time.perf_counter() - start
    score = Score()
    for doc, f in zip(docs, found, strict=True):
        score.add(doc.spans, f, doc.locale)
    rows = score.table(f"Generated corpus: {len(docs):,} documents (en_US, fr_FR, de_DE; sentences, "
                       "tables, e-mails), all detectors")
    by_genre = Score()
    for doc, f in zip(docs, found, strict=True):
        by_genre.add(doc.spans, f, doc.genre)
    person = {g: by_genre.recall([f"person@{g}"]) for g in ("sentences", "table", "email")}
    person_de = score.recall(["person@de_DE"])
    print("person precision: " + ", ".join(f"{loc} {score.precision([f'person@{loc}']):.3f}"
                                            for loc in ("en_US", "fr_FR", "de_DE")))
    print("person recall by genre: " + ", ".join(f"{g} {r:.3f}" for g, r in person.items() if r is not None)
          + f"; in German text (English model) {person_de:.3f}")
    print("phones Faker drew that no numbering plan issues (redrawn): "
          + ", ".join(f"{k} {v:.0%}" for k, v in redrawn.items()))
    return {
        "pii_docs": len(docs),
        "pii_recall_checksummed": score.recall(CHECKSUMMED_KINDS),
        "pii_precision_checksummed": score.precision(CHECKSUMMED_KINDS),
        "pii_recall_checksummed_exact": score.recall(CHECKSUMMED_KINDS, True),
        "pii_recall_email_phone": score.recall(["email", "phone"]),
        "pii_precision_email_phone": score.precision(["email", "phone"]),
        "pii_recall_person_en": score.recall(["person@en_US"]),
        "pii_recall_person_fr": score.recall(["person@fr_FR"]),
        "pii_recall_person_de": person_de,
        "pii_precision_person_en": score.precision(["person@en_US"]),
        "pii_precision_person_fr": score.precision(["person@fr_FR"]),
        "pii_precision_person_de": score.precision(["person@de_DE"]),
        "pii_detect_all_items_per_s": len(docs) / seconds,
        "pii_per_kind": rows,
        "pii_person_recall_by_genre": person,
        "pii_faker_phones_redrawn": redrawn,
    }


_MARK = re.compile(r"\[\[(\w+)\|(.*?)\]\]")


def parse_heldout(text: str) -> list[tuple[str, str, list[Span]]]:
    """Held-out documents: blocks split by lines of "---", the first line "lang: en"; values marked
    [[kind|value]] in place."""
    out = []
    for block in text.split("\n---\n"):
        head, _, body = block.strip("\n").partition("\n")
        language = head.removeprefix("lang:").strip()
        spans: list[Span] = []
        plain: list[str] = []
        pos = last = 0
        for m in _MARK.finditer(body):
            plain.append(body[last:m.start()])
            pos += m.start() - last
            spans.append((pos, pos + len(m.group(2)), m.group(1)))
            plain.append(m.group(2))
            pos += len(m.group(2))
            last = m.end()
        plain.append(body[last:])
        out.append((language, "".join(plain), spans))
    return out


def heldout() -> dict[str, Any]:
    """Precision and recall on the hand-written held-out formats (and near misses)."""
    docs = parse_heldout(HELDOUT.read_text())
    found = detect_many([t for _, t, _ in docs], languages=[lang for lang, _, _ in docs])
    score = Score()
    for (lang, _, spans), f in zip(docs, found, strict=True):
        score.add(spans, f, lang)
    rows = score.table(f"Held-out, hand-written: {len(docs)} documents, formats the generator never writes")
    return {
        "pii_heldout_recall_checksummed": score.recall(CHECKSUMMED_KINDS),
        "pii_heldout_precision_checksummed": score.precision(CHECKSUMMED_KINDS),
        "pii_heldout_recall_email_phone": score.recall(["email", "phone"]),
        "pii_heldout_recall_person": score.recall(["person"]),
        "pii_heldout_per_kind": rows,
    }


def throughput() -> dict[str, Any]:
    """Documents per second through the pattern detectors only, one process, best of two passes."""
    docs: list[Doc] = corpus(N_PER_LOCALE)[0]
    texts = [d.text for d in docs]
    times = []
    for _ in range(2):
        start = time.perf_counter()
        detect_many(texts, kinds=PATTERN_KINDS)
        times.append(time.perf_counter() - start)
    rate = len(texts) / min(times)
    chars = sum(map(len, texts)) / len(texts)
    print(f"\nPattern detectors only: {rate:,.0f} documents/s ({chars:.0f} characters each on average; "
          f"one process; load average {os.getloadavg()[0]:.1f})")
    return {"pii_items_per_s": rate, "pii_mean_doc_chars": chars}


def audit_overhead() -> dict[str, Any]:
    """What the audit log costs one queue cycle on SQLite (bench/audit_cost.py; also in bench-core)."""
    from audit_cost import measure

    out = measure()
    print(f"\nAudit log: {out['audit_overhead_ms_per_cycle']:.3f} ms a cycle (CPU "
          f"{out['audit_overhead_cpu_ms_per_cycle']:.3f} ms; cycle {out['audit_cycle_ms_off']:.2f} ms "
          f"without, {out['audit_cycle_ms_on']:.2f} ms with; load average {os.getloadavg()[0]:.1f})")
    return out


MEASUREMENTS: list[Callable[[], dict[str, Any]]] = [generated, heldout, throughput, audit_overhead]


def main() -> None:
    run_measurements(MEASUREMENTS, RESULTS)


if __name__ == "__main__":
    main()
