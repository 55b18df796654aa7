"""Each algorithm documents its maths and cites its paper; the public API is what the package says."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import labelloop.quality as quality

CITATIONS = {
    "labelloop.quality.classification.dawid_skene": ["Dawid", "Skene", "1979"],
    "labelloop.quality.classification.glad": ["Whitehill", "2009"],
    "labelloop.quality.classification.mace": ["Hovy", "2013"],
    "labelloop.quality.agreement.krippendorff": ["Krippendorff", "2011"],
    "labelloop.quality.agreement.kappa": ["Fleiss", "1971", "Cohen", "1960", "1968"],
    "labelloop.quality.numeric": ["Huber", "1964"],
    "labelloop.quality.bootstrap": ["Efron"],
    "labelloop.quality.classification.ensemble": ["Hoeting"],
}


@pytest.mark.parametrize(("module", "words"), list(CITATIONS.items()))
def test_algorithm_modules_cite_their_papers(module: str, words: list[str]) -> None:
    doc = importlib.import_module(module).__doc__ or ""
    assert ".. math::" in doc or ":math:" in doc
    for word in words:
        assert word in doc


def test_every_public_name_is_documented_and_options_are_keyword_only() -> None:
    for name in quality.__all__:
        obj = getattr(quality, name)
        assert inspect.getdoc(obj), name
        if inspect.isclass(obj) and name not in ("ConfidenceInterval", "CategoricalAggregator"):
            params = list(inspect.signature(obj).parameters.values())
            assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params), name


def test_importing_quality_loads_no_platform_code() -> None:
    code = (
        "import sys, labelloop.quality; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'starlette') "
        "or m.startswith(('labelloop.store', 'labelloop.services', 'labelloop.api', 'labelloop.cli'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
