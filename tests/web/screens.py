"""Screenshots for docs/: taken by the browser tests, written only when asked (`make screenshots`),
so an ordinary test run never touches tracked files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def screenshot(page: Any, name: str) -> None:
    target = os.environ.get("LABELLOOP_SCREENSHOTS")
    if not target:
        return
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
