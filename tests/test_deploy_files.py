"""The deployment recipe (deploy/) runs what the fault test runs: the same commands, the same
environment variable names, as many API processes and workers, the moto server the test suite
pins. Docker is not needed: the files are read, not run (tests/platform/deployment.py is the
other side, and what tests/platform/test_fault_deployment.py starts)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tests.platform import deployment as harness

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return dict(compose["services"])


def test_the_processes_run_the_harness_commands() -> None:
    s = services()
    assert s["api"]["command"] == list(harness.SERVE)
    assert s["worker"]["command"] == list(harness.WORKER)
    assert s["ray-head"]["command"][:len(harness.RAY_HEAD)] == list(harness.RAY_HEAD)
    assert s["api"]["deploy"]["replicas"] == harness.API_PROCESSES
    assert s["worker"]["deploy"]["replicas"] == harness.WORKER_PROCESSES


def test_each_process_gets_the_harness_variables() -> None:
    s = services()
    assert sorted(s["api"]["environment"]) == sorted(harness.API_ENV)
    assert sorted(s["worker"]["environment"]) == sorted(harness.WORKER_ENV)
    assert sorted(s["ray-head"]["environment"]) == sorted(harness.RAY_ENV)
    for name in ("api", "worker"):
        env = s[name]["environment"]
        assert {k: env[k] for k in harness.FIXED_ENV if k in env} == {
            k: v for k, v in harness.FIXED_ENV.items() if k in env}
    assert s["api"]["environment"]["LABELLOOP_JOB_WORKERS"] == "0"
    # The API processes and the workers share the data folder (an upload waits there for its import).
    assert s["api"]["volumes"] == s["worker"]["volumes"] == [f"data:{s['api']['environment']['LABELLOOP_DATA_DIR']}"]


def test_the_engines_are_the_tested_ones() -> None:
    s = services()
    assert s["postgres"]["image"] == "postgres:15"
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    [moto] = [p for p in pins if p.startswith("moto[server]==")]
    assert s["s3"]["image"] == f"motoserver/moto:{moto.split('==')[1]}"
    store = s["api"]["environment"]
    assert store["LABELLOOP_S3_ENDPOINT_URL"] == "http://s3:5000"
    assert "@postgres:5432/" in store["LABELLOOP_DATABASE_URL"]


def test_the_proxy_goes_round_robin_to_the_api_port() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    port = services()["api"]["environment"]["LABELLOOP_PORT"]
    assert re.search(rf"^\s*dynamic a api {port}\b", caddyfile, re.M), caddyfile
    assert re.search(r"^\s*lb_policy round_robin$", caddyfile, re.M), caddyfile


def test_the_image_installs_the_extras_and_serves() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "FROM python:3.11-slim" in dockerfile
    [install] = re.findall(r'pip install "\.\[([a-z0-9,-]+)\]"', dockerfile)
    wanted = install.split(",")
    assert wanted == ["s3", "ray"] and all(e in extras for e in wanted), (wanted, sorted(extras))
    [cmd] = re.findall(r"^CMD (.+)$", dockerfile, re.M)
    assert json.loads(cmd) == list(harness.SERVE)
