"""labelloop.learn stands alone: no platform, no labelloop.quality, no heavy import at module load."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import labelloop.learn

PACKAGE = Path(labelloop.learn.__file__).parent


def test_learn_imports_nothing_else_of_labelloop() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("labelloop"):
                    assert name.startswith("labelloop.learn"), f"{path.name} imports {name}"


def test_importing_learn_loads_no_heavy_encoder() -> None:
    code = "import sys, labelloop.learn; print(sorted(m for m in ('onnxruntime', 'tokenizers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
