"""Server processes the tests start for real: an S3-compatible store (moto's server), nginx, the app's own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.settings import ROOT
from tests.conftest import process_env

S3_KEYS = {"YIWANG_S3_ACCESS_KEY": "yiwang-test", "YIWANG_S3_SECRET_KEY": "yiwang-test-secret",
           "YIWANG_S3_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 30) -> None:
    """Until the URL answers (any HTTP status); fails with the log's tail if the process ends or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s: {log.read_text()[-3000:]}")


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A child process writing to `log`, ended (SIGTERM, then SIGKILL) when the block ends."""
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env or os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def s3_server(folder: Path, *, wait: bool = True) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """moto's S3-compatible server on a free loopback port (a third-party stand-in for S3): its endpoint URL and
    process, up unless `wait` is False (then `wait_until_up(url, proc, folder / "s3.log")` before using it)."""
    port = free_port()
    log = folder / "s3.log"
    moto = Path(sys.executable).with_name("moto_server")
    with process([str(moto), "-H", "127.0.0.1", "-p", str(port)], log) as proc:
        url = f"http://127.0.0.1:{port}"
        if wait:
            wait_until_up(url, proc, log)
        yield url, proc


def make_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name=S3_KEYS["YIWANG_S3_REGION"],
                 aws_access_key_id=S3_KEYS["YIWANG_S3_ACCESS_KEY"],
                 aws_secret_access_key=S3_KEYS["YIWANG_S3_SECRET_KEY"]).create_bucket(Bucket=bucket)


@contextmanager
def app_server(log: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m app serve` on a free loopback port, on the tests' database (with tests.conftest.process_env
    unless `env` is given): its URL and process, answering /healthz when the block starts, ended when it ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with process([sys.executable, "-m", "app", "serve", "--port", str(port)], log, env or process_env()) as proc:
        wait_until_up(f"{url}/healthz", proc, log)
        yield url, proc
