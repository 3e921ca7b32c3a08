"""The scale-out deployment, started for real as an operator would: a fresh PostgreSQL database migrated by
`python -m app migrate`, an S3-compatible server, two `python -m app serve` processes behind Debian's nginx (with the
site `python -m app nginx-config` prints), and two queue workers (`python -m app jobs worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import ROOT
from app.web.access_log import FLUSH_SECONDS
from tests.conftest import pg_admin
from tests.servers import S3_KEYS, free_port, make_bucket, process, s3_server, wait_until_up

NGINX = "/usr/sbin/nginx"
ARTIFACTS = ROOT / "test-artifacts" / "postgres" / "deployment"
BUCKET = "yiwang-deployment"
JOBS_CRON = "* * * * * */2"  # every two seconds (the sixth field is seconds), so that a test sees several periods
NGINX_MAIN = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log notice;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/yiwang.conf;
}}
"""
ACCESS_LINE = re.compile(r"pid=(\d+) .*? (\S+):\d+ - \"(\w+) (\S+) HTTP/[\d.]+\" (\d+)")


@dataclass(frozen=True)
class Request:
    pid: int  # the server worker that answered
    client: str  # the client's address as the app saw it
    method: str
    path: str
    status: int


class ServerLog:
    """The servers' shared log, read from where the test last looked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_requests(self) -> list[Request]:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return [Request(int(m[1]), m[2], m[3], m[4], int(m[5]))
                for m in ACCESS_LINE.finditer(complete.decode(errors="replace"))]

    def skip(self) -> None:
        """Past every request answered so far: a server writes its lines at most FLUSH_SECONDS late."""
        time.sleep(FLUSH_SECONDS + 0.3)
        self.offset = self.path.stat().st_size

    def wait_for(self, count: int, method: str, seconds: float = 10) -> list[Request]:
        """The next `count` requests of this method the servers logged (each within FLUSH_SECONDS of answering)."""
        seen: list[Request] = []
        deadline = time.monotonic() + seconds
        while len(seen) < count and time.monotonic() < deadline:
            seen += [r for r in self.new_requests() if r.method == method]
            if len(seen) < count:
                time.sleep(0.02)
        assert len(seen) == count, seen
        return seen


@dataclass
class Deployment:
    url: str  # nginx
    folder: Path
    database_url: str
    s3_endpoint: str
    server_log: ServerLog
    queue_logs: list[Path]
    seed: dict[str, str]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, address: str = "127.0.0.2") -> httpx.Client:
        """A client connecting to nginx from this loopback address (nginx passes it on as X-Forwarded-For); closed
        after the test."""
        self.clients.append(httpx.Client(base_url=self.url, transport=httpx.HTTPTransport(local_address=address),
                                         timeout=60))
        return self.clients[-1]

    def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            import asyncpg

            conn = await asyncpg.connect(self.database_url)
            try:
                return [dict(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return asyncio.run(run())


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


def _wait_for_text(log: Path, text: str, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{log.name}: {text!r} not seen {count}×: {log.read_text(errors='replace')[-3000:]}")


def _left_running(marker: str, seconds: float = 10) -> list[str]:
    """Processes (a render process, say) still running with this in their environment, killed if still there
    after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        left = {}
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if marker.encode() + b"\0" in environ.read_bytes():
                    left[int(environ.parent.name)] = (environ.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return [cmd.decode(errors="replace")[:120] for cmd in left.values()]


@pytest.fixture
def deployment(running: Deployment) -> Iterator[Deployment]:
    yield running
    while running.clients:
        running.clients.pop().close()


@pytest.fixture(scope="module")
def running() -> Iterator[Deployment]:
    if os.environ.get("YIWANG_TEST_ENGINE", "sqlite") != "postgres":
        pytest.skip("the scale-out deployment runs on PostgreSQL: YIWANG_TEST_ENGINE=postgres")
    if not Path(NGINX).exists():
        pytest.fail(f"nginx not found at {NGINX}; `make test` installs Debian's nginx")
    # Not under pytest's own temporary folders (0700): nginx's workers (www-data when the test runs as root) must
    # reach the temporary files of request bodies in it.
    folder = Path(tempfile.mkdtemp(prefix="yiwang-deployment-"))
    folder.chmod(0o755)
    name = f"yiwang_deploy_{os.getpid()}"
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(pg_admin(f"CREATE DATABASE {name}"))
    database_url = os.environ["YIWANG_TEST_PG_URL"].rsplit("/", 1)[0] + f"/{name}"
    nginx_port, app_ports = free_port(), [free_port(), free_port()]
    url = f"http://127.0.0.1:{nginx_port}"
    python = sys.executable
    try:
        with ExitStack() as stack:
            s3_endpoint, s3 = stack.enter_context(s3_server(folder, wait=False))  # starting while the rest is set up
            env = {k: v for k, v in os.environ.items() if not k.startswith("YIWANG_") and k != "DATABASE_URL"}
            env.update(DATABASE_URL=database_url, YIWANG_VAR_DIR=str(folder / "var"), YIWANG_STORAGE="s3",
                       YIWANG_S3_ENDPOINT=s3_endpoint, YIWANG_S3_BUCKET=BUCKET, **S3_KEYS, YIWANG_PUBLIC_URL=url,
                       YIWANG_TRUSTED_PROXIES="127.0.0.1", YIWANG_DB_POOL_SIZE="3", YIWANG_JOBS_CRON=JOBS_CRON)
            _run([python, "-m", "app", "keys", "init"], env)
            _run([python, "-m", "app", "migrate"], env)
            seed = json.loads(_run([python, "-m", "tests.deployment.seed"], {**env, "YIWANG_DB_POOL_SIZE": "0"}))
            wait_until_up(s3_endpoint, s3, folder / "s3.log")
            make_bucket(s3_endpoint, BUCKET)

            server_log = folder / "servers.log"
            # Two servers of one worker each, both nginx upstreams: its round robin gives each its share of the
            # requests (one `serve --workers 2` behind one port leaves that to the kernel, which at low load can hand
            # one worker every connection).
            servers = {port: stack.enter_context(process([python, "-m", "app", "serve", "--host", "127.0.0.1",
                                                          "--port", str(port), "--workers", "1"], server_log, env))
                       for port in app_ports}
            queue_logs = [folder / f"queue-{n}.log" for n in (1, 2)]
            for log in queue_logs:
                stack.enter_context(process([python, "-m", "app", "jobs", "worker"], log, env))
            site = _run([python, "-m", "app", "nginx-config", "--listen", f"127.0.0.1:{nginx_port}",
                         *(f"--upstream=127.0.0.1:{port}" for port in app_ports)], env)
            for port, proc in servers.items():  # up before nginx, which would set aside a server that refused it
                wait_until_up(f"http://127.0.0.1:{port}/healthz", proc, server_log)
            nginx_dir = folder / "nginx"
            nginx_dir.mkdir()
            (nginx_dir / "yiwang.conf").write_text(site)
            (nginx_dir / "nginx.conf").write_text(NGINX_MAIN.format(folder=nginx_dir))
            nginx_log = folder / "nginx.log"
            nginx = stack.enter_context(process([NGINX, "-e", str(nginx_dir / "error.log"), "-p", str(nginx_dir),
                                                 "-c", str(nginx_dir / "nginx.conf")], nginx_log))
            wait_until_up(url + "/healthz", nginx, nginx_log)
            _wait_for_text(server_log, "Application startup complete", 2)
            for log in queue_logs:
                _wait_for_text(log, "Starting worker on queues", 1)
            logs = ServerLog(server_log)
            logs.skip()
            yield Deployment(url=url, folder=folder, database_url=database_url, s3_endpoint=s3_endpoint,
                             server_log=logs, queue_logs=queue_logs, seed=seed)
            errors = [line for line in server_log.read_text(errors="replace").splitlines()
                      if " ERROR " in line or "Traceback" in line]
            assert errors == [], errors
        left = _left_running(f"YIWANG_VAR_DIR={folder / 'var'}")
        assert left == [], f"processes left running after the servers stopped: {left}"
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the processes' logs, kept where CI keeps screenshots
        for log in [*folder.glob("*.log"), folder / "nginx" / "error.log"]:
            if log.exists():
                shutil.copy(log, ARTIFACTS / log.name.replace("error.log", "nginx-error.log"))
        asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        shutil.rmtree(folder, ignore_errors=True)
