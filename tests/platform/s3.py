"""A real S3 server for the tests: moto's server (`moto[server]`, the test extra) started in its
own process on a free loopback port, so the suite needs no network. Each test gets a bucket of
its own; credentials and region are dummy values in the environment (boto3's usual chain), which
also keeps boto3 from asking an instance-metadata address for them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

boto3 = pytest.importorskip("boto3", reason="S3 blobs need the s3 extra (pip install -e '.[s3]')")
pytest.importorskip("moto", reason="the S3 tests need moto[server] (the test extra)")

ENV = {"AWS_ACCESS_KEY_ID": "labelloop-test", "AWS_SECRET_ACCESS_KEY": "labelloop-test-secret",
       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


@dataclass
class S3Server:
    endpoint: str

    def client(self) -> Any:
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, config=Config(s3={"addressing_style": "path"}))

    def new_bucket(self) -> str:
        name = f"labelloop-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def s3_server(*, check_credentials: bool = False) -> Iterator[S3Server]:
    """`check_credentials`: a server that refuses any access key it does not know (moto's IAM
    checks from the first request), which is every key, for the wrong-credentials test."""
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    port = free_port()
    env = os.environ | ({"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if check_credentials else {})
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # ready when it answers (about a second)
            if proc.poll() is not None:
                raise RuntimeError(f"moto's S3 server exited with {proc.returncode}")
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto's S3 server did not start in 30 s")
        yield S3Server(endpoint)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
