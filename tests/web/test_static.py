"""The web app's source and how the server serves it (no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.platform.world import World

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"

# Ways to turn a string into markup or code. Item content must only ever become text.
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|"
    r"\beval\(|new Function\(|createContextualFragment|srcdoc"
)


def test_the_frontend_source_has_no_html_sinks() -> None:
    sources = [p for p in (FRONTEND / "src").rglob("*") if p.suffix in (".ts", ".tsx")]
    assert len(sources) > 10
    for path in sources:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            assert not HTML_SINKS.search(line), f"{path.relative_to(ROOT)}:{n}: {line.strip()}"


def test_no_third_party_code_is_copied_into_the_repo() -> None:
    """Front-end dependencies come from the npm registry, pinned by the committed lock file."""
    lock = (FRONTEND / "package-lock.json").read_text()
    assert '"node_modules/preact"' in lock and '"node_modules/vite"' in lock
    ours = [p for p in (FRONTEND / "src").rglob("*") if p.is_file()]
    assert all(p.suffix in (".ts", ".tsx", ".css") for p in ours)
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "frontend/node_modules/" in gitignore and "src/labelloop/web/dist/" in gitignore


def test_the_app_is_served_with_a_strict_content_security_policy(world: World) -> None:
    r = world.client.get("/app/")
    csp = r.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'",
                      "require-trusted-types-for 'script'", "trusted-types 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # media fields load from this origin or over https only: no plain http, no wildcard, no blob:
    sources = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert sources["img-src"] == ["'self'", "data:", "https:"]
    assert sources["media-src"] == ["'self'", "https:"]
    assert r.headers["x-content-type-options"] == "nosniff"
    if r.status_code == 200:  # built: the page loads its code from /app/assets only
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', r.text)
        assert scripts and all(s.startswith("/app/assets/") for s in scripts)
        assert "<script>" not in r.text and " on" not in r.text.split("<body>")[1]
        asset = world.client.get(scripts[0])
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert asset.headers["content-security-policy"] == csp
    else:
        assert r.status_code == 503 and "make web" in r.text


def test_the_root_leads_to_the_app(world: World) -> None:
    r = world.client.get("/", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"] == "/app/"
    assert world.client.get("/app", follow_redirects=False).headers["location"] == "/app/"
