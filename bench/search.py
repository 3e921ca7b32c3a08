"""Catalogue search benchmark: import time, search latency (in-process and over HTTP), recall against a scan.

    python -m bench.search [--items 87000] [--city] [--reps 10] [--keep]

Everything happens in a fresh data folder under /tmp (SQLite): migrate, seed the departments, generate a
catalogue with bench.catalogue, import it through `import_catalogue` (the real path), then measure
`search()` in-process, `/services?q=…` (the htmx results fragment) and `/bench/baseline` through a
`python -m app serve --workers 1` subprocess on 127.0.0.1, and compare every query's results with a brute-force
substring scan. One table at the end: figure, target, measured, pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

TARGET_P95_MS = 15.0
IMPORT_BUDGET_S = 300.0

QUERIES_2 = (
    "社保", "户口", "出生", "公积", "执照", "医保", "护照", "驾驶", "身份", "婚姻", "退休", "养老", "失业", "生育",
    "低保", "残疾", "食品", "药品", "建设", "税务", "发票", "房产", "不动", "居住", "就业", "排污", "医师", "特种",
    "道路", "教师",
)
QUERIES_4 = (
    "社会保险", "住房公积", "营业执照", "居民身份", "出生登记", "户口迁移", "婚姻登记", "医疗保险", "养老保险",
    "失业保险", "食品经营", "药品经营", "建设工程", "排污许可", "医师执业", "特种设备", "道路运输", "机动车驾",
    "不动产登", "居住证申", "出入境证", "普通护照", "个体工商", "税务登记", "发票领用", "最低生活", "残疾人证",
    "教师资格", "工伤认定", "城乡居民",
)


# A table row: figure, target, measured, PASS/FAIL/info (True/False/None) and, where the run measured the bare page
# too, the figure against it ("vs baseline"). Modules write 4-tuples where there is nothing to compare.
Row = tuple[str, str, str, bool | None] | tuple[str, str, str, bool | None, str]


# --- small helpers -----------------------------------------------------------------------------------------

def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def summary(values: Sequence[float]) -> str:
    return (f"n={len(values):5d}  p50 {pct(values, 50):7.2f}  p95 {pct(values, 95):7.2f}  "
            f"p99 {pct(values, 99):7.2f}  max {max(values):7.2f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def use_var_dir(path: Path) -> Path:
    if not (path / "yiwang.sqlite3").exists():
        raise SystemExit(f"{path} holds no yiwang.sqlite3")
    os.environ["YIWANG_VAR_DIR"] = str(path.resolve())
    os.environ.pop("DATABASE_URL", None)
    return path.resolve()


def fresh_var_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="yiwang-bench-"))
    os.environ["YIWANG_VAR_DIR"] = str(path)
    os.environ.pop("DATABASE_URL", None)  # the SQLite file in the fresh folder, whatever the shell says
    return path


def code_fingerprint() -> str:
    """Short hashes of the files that decide the figures, so a result can be tied to the code it measured."""
    import hashlib

    root = Path(__file__).resolve().parent.parent
    files = ["app/catalog/search.py", "app/catalog/services.py", "app/catalog/schema.py", "app/db.py"]
    parts = [f"{f.rsplit('/', 1)[-1]} {hashlib.sha256((root / f).read_bytes()).hexdigest()[:8]}" for f in files]
    migrations = sorted(p.name for p in (root / "migrations").glob("yiwang_*.py"))
    return ", ".join(parts) + f"; {len(migrations)} migrations, last {migrations[-1] if migrations else '-'}"


# --- setup and import --------------------------------------------------------------------------------------

def write_files(doc: dict[str, Any], var_dir: Path) -> tuple[list[str], float]:
    """The catalogue as files the importer accepts (one, unless beyond its limit); their paths and size in MB."""
    from bench.catalogue import write_parts

    paths = write_parts(doc, str(var_dir / "catalogue.json"))
    return paths, sum(os.path.getsize(p) for p in paths) / 1e6


async def setup_and_import(items: int, seed: int, var_dir: Path, *, profile: bool = False) -> dict[str, Any]:
    """Migrate, seed departments, generate and import (split only beyond schema.MAX_ITEMS); the timings in s."""
    from app.__main__ import migrate
    from app.catalog.services import import_catalogue, load_file
    from app.demo import seed_departments
    from bench.catalogue import generate

    timings: dict[str, Any] = {}
    t = time.perf_counter()
    await migrate()
    await seed_departments()
    timings["setup"] = time.perf_counter() - t

    t = time.perf_counter()
    doc = generate(items, seed)
    paths, timings["file_mb"] = write_files(doc, var_dir)
    timings["generate"] = time.perf_counter() - t
    timings["files"] = len(paths)
    del doc

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    timings["load_json"] = timings["import"] = 0.0
    timings["parts"] = []
    added = 0
    for path in paths:
        t = time.perf_counter()
        part = load_file(path)
        timings["load_json"] += time.perf_counter() - t
        if profiler is not None:
            profiler.enable()
        t = time.perf_counter()
        result = await import_catalogue(part, note=f"bench {Path(path).name}")
        elapsed = time.perf_counter() - t
        if profiler is not None:
            profiler.disable()
        timings["import"] += elapsed
        timings["parts"].append((len(part["items"]), elapsed))
        added += result.items_added
        if len(paths) > 1:
            print(f"  imported {Path(path).name}: {len(part['items']):,} items in {elapsed:.1f}s "
                  f"({len(part['items']) / elapsed:,.0f}/s), {added:,} in the database", flush=True)
    if profiler is not None:
        import pstats

        print(f"\nprofile of import_catalogue ({items} items), top functions by own time:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        print("by cumulative time:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    assert added == items, (added, items)
    return timings


def print_import(items: int, timings: dict[str, Any]) -> None:
    rate = items / timings["import"] if timings["import"] else float("inf")
    print(f"import {items:,} items: generate+write {timings['generate']:.1f}s ({timings['file_mb']:.0f} MB in "
          f"{timings['files']} file(s)), json load {timings['load_json']:.1f}s, import_catalogue "
          f"{timings['import']:.1f}s ({rate:,.0f} items/s); migrate+departments {timings['setup']:.1f}s", flush=True)


def city_import(seed: int) -> float:
    """Import a city-sized catalogue into another fresh folder, in a child process (one engine per process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("YIWANG_VAR_DIR", "DATABASE_URL")}
    from bench.catalogue import CITY_ITEMS

    out = subprocess.run(  # noqa: S603 - our own module with fixed arguments
        [sys.executable, "-m", "bench.search", "--import-only", "--items", str(CITY_ITEMS), "--seed", str(seed)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    print(out.rstrip())
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return float(json.loads(line.removeprefix("RESULT "))["import"])


# --- in-process latency, recall, diagnostics -------------------------------------------------------------

async def in_process_latency(queries: Sequence[str], reps: int) -> tuple[list[float], dict[str, list[float]], dict]:
    from app.catalog.search import SearchQuery, normalize, search

    totals: dict[str, int] = {}
    for q in queries:  # warm the page cache and Python's imports once
        _, totals[q] = await search(SearchQuery(term=normalize(q)), limit=20)
    times: list[float] = []
    per_query: dict[str, list[float]] = {q: [] for q in queries}
    order = list(queries)
    rng = random.Random(1)
    for _ in range(reps):
        rng.shuffle(order)
        for q in order:
            t = time.perf_counter()
            await search(SearchQuery(term=normalize(q)), limit=20)
            ms = (time.perf_counter() - t) * 1000
            times.append(ms)
            per_query[q].append(ms)
    return times, per_query, totals


async def load_items() -> list[tuple[str, str, str]]:
    """(code, normalized name, normalized summary) of every published item."""
    from app.catalog.search import normalize
    from app.catalog.tables import ServiceItem

    rows = await ServiceItem.select(ServiceItem.code, ServiceItem.name, ServiceItem.summary).where(
        ServiceItem.status == "published")
    return [(r["code"], normalize(r["name"]), normalize(r["summary"])) for r in rows]


async def recall_check(queries: Sequence[str], items: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """For each query: search's codes (all pages) against a substring scan of every variant (synonyms)."""
    from app.catalog.search import SearchQuery, normalize, search, variants

    out = []
    for q in queries:
        term = normalize(q)
        terms = await variants(term)
        t = time.perf_counter()
        expected = {code for code, name, text in items if any(v in name or v in text for v in terms)}
        scan_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        rows, total = await search(SearchQuery(term=term), limit=10**7)
        full_ms = (time.perf_counter() - t) * 1000
        got = {r["code"] for r in rows}
        hit = len(got & expected)
        out.append({
            "q": q, "variants": terms, "expected": len(expected), "got": len(got), "total": total, "hit": hit,
            "scan_ms": scan_ms, "all_pages_ms": full_ms,
            "missing": sorted(expected - got)[:3], "extra": sorted(got - expected)[:3],
        })
    return out


async def captured_statements(run: Any) -> list[tuple[str, list[Any]]]:
    """The SQL statements (with their arguments) the app runs while `run()` is awaited: those through Piccolo's engine
    as each QueryString is compiled, and app.db.read_small's on SQLite (compiled once per template) as it runs them."""
    from piccolo.querystring import QueryString

    from app import db

    original = QueryString.compile_string
    captured: list[tuple[str, list[Any]]] = []

    def spy(self: Any, engine_type: str = "postgres") -> tuple[str, list[Any]]:
        compiled = original(self, engine_type=engine_type)
        captured.append(compiled)
        return compiled

    QueryString.compile_string = spy  # type: ignore[method-assign]
    db.observe_statement = lambda statement, args: captured.append((statement, list(args)))
    try:
        await run()
    finally:
        QueryString.compile_string = original  # type: ignore[method-assign]
        db.observe_statement = None
    return captured


async def request_statements(q: str, timing_queries: Sequence[str] = ()) -> tuple[list[tuple[str, list[Any]]],
                                                                                  list[float]]:
    """The statements one htmx GET /services?q= runs, through the real app in-process (no server, no network),
    and the in-process latencies (ms) of that request for `timing_queries`: search plus controller and template."""
    from litestar.testing import AsyncTestClient

    from app.main import create_app

    async with AsyncTestClient(app=create_app()) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the app's logging config turned request logs on

        async def one(term: str = q) -> None:
            r = await client.get("/services", params={"q": term}, headers=HX)
            assert r.status_code == 200, r.status_code

        await one()
        statements = await captured_statements(one)
        times = []
        for term in timing_queries:
            await one(term)
            for _ in range(5):
                t = time.perf_counter()
                await one(term)
                times.append((time.perf_counter() - t) * 1000)
        return statements, times


async def diagnostics(var_dir: Path, samples: Sequence[str]) -> dict[str, Any]:
    """Where one search's time goes: its statements, the per-statement connection, SQL on a kept connection
    (warm page cache), and each statement's plan. Built from the SQL search() really runs, whatever it is."""
    import sqlite3

    import aiosqlite

    from app.catalog.search import SearchQuery, normalize, search
    from app.catalog.tables import ServiceItem
    from app.settings import get_settings

    db_path = str(get_settings().sqlite_path)
    result: dict[str, Any] = {}

    # Piccolo's SQLite engine opens a new aiosqlite connection (a thread, a cold page cache) per statement
    # outside transactions.
    n = 200
    t = time.perf_counter()
    for _ in range(n):
        async with aiosqlite.connect(db_path) as conn:
            await conn.execute("PRAGMA foreign_keys = 1")
            async with conn.execute("SELECT 1") as cur:
                await cur.fetchall()
    result["aiosqlite_connect_select1_ms"] = (time.perf_counter() - t) * 1000 / n
    t = time.perf_counter()
    for _ in range(n):
        await ServiceItem.raw("SELECT 1")
    result["piccolo_raw_select1_ms"] = (time.perf_counter() - t) * 1000 / n
    kept = sqlite3.connect(db_path)
    t = time.perf_counter()
    for _ in range(n):
        kept.execute("SELECT 1").fetchall()
    result["kept_sqlite3_select1_ms"] = (time.perf_counter() - t) * 1000 / n

    reps = 10
    result["samples"] = []
    for q in samples:
        query = SearchQuery(term=normalize(q))
        await search(query, limit=20)  # warm any cache (synonyms) so the capture shows the steady state
        statements = await captured_statements(lambda query=query: search(query, limit=20))
        t = time.perf_counter()
        for _ in range(reps):
            _, total = await search(query, limit=20)
        search_ms = (time.perf_counter() - t) * 1000 / reps
        parts = []
        for sql, args in statements:
            t = time.perf_counter()
            for _ in range(reps):
                async with aiosqlite.connect(db_path) as conn:
                    await conn.execute("PRAGMA foreign_keys = 1")
                    async with conn.execute(sql, args) as cur:
                        await cur.fetchall()
            fresh_ms = (time.perf_counter() - t) * 1000 / reps
            kept.execute(sql, args).fetchall()
            t = time.perf_counter()
            for _ in range(reps):
                kept.execute(sql, args).fetchall()
            kept_ms = (time.perf_counter() - t) * 1000 / reps
            plan = [r[3] for r in kept.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()]
            parts.append({"sql": " ".join(sql.split())[:160], "fresh_ms": fresh_ms, "kept_ms": kept_ms,
                          "plan": plan})
        result["samples"].append({"q": q, "matches": total, "search_ms": search_ms, "statements": parts})
    tables = {r[0] for r in kept.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    counts = {t: kept.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
              for t in ("service_item", "search_gram", "service_item_version", "search_synonym") if t in tables}
    result["rows"] = counts
    result["indexes"] = [r[0] for r in kept.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'search_gram'").fetchall()]
    kept.close()
    result["db_mb"] = folder_mb(var_dir)
    return result


def folder_mb(var_dir: Path) -> float:
    return sum(p.stat().st_size for p in var_dir.glob("yiwang.sqlite3*")) / 1e6


# --- HTTP ----------------------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far, from Linux's /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_line(server_cpu: float, client_cpu: float, elapsed: float, requests: int) -> str:
    """Who was busy during a phase: the server's CPU per request and both processes' share of one core. A
    load generator near 100% means the figure measured it, not only the server."""
    secs = max(elapsed, 1e-9)
    return (f"server {1000 * server_cpu / max(1, requests):.2f} ms CPU/request, busy {server_cpu / secs:.0%} of a "
            f"core; load generator busy {client_cpu / secs:.0%}")


class LeanGet:
    """One keep-alive HTTP/1.1 connection that only GETs, for load generation.

    httpx spends about a millisecond of CPU on a request, more than the bare-template page costs the server: on a
    2-core machine a load generator built on it saturated its core before the server did, and its ceiling, not the
    server's, became the baseline's throughput. This writes the request line and headers and reads the status, the
    headers and a Content-Length body, nothing more (the pages measured are never chunked)."""

    def __init__(self, base: str) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port or 80)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{lines}\r\n".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if "content-length" not in fields:
            raise ValueError(f"GET {path}: {status} without Content-Length ({fields.get('transfer-encoding')})")
        body = await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            await self.aclose()
        return status, fields, body

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def start_server(var_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "YIWANG_VAR_DIR": str(var_dir), "YIWANG_BENCH_BASELINE": "1"}
    env.pop("DATABASE_URL", None)
    log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - handed to the child, closed with it
    proc = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments, loopback only
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early, see {var_dir / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("server did not come up within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


HX = {"HX-Request": "true"}


def http_sequential(base: str, paths: Sequence[str]) -> tuple[list[float], float]:
    """Latencies (ms) of the paths requested one after the other on one keep-alive connection; and req/s."""
    times = []
    with httpx.Client(base_url=base, headers=HX, timeout=30) as client:
        client.get(paths[0])
        started = time.perf_counter()
        for path in paths:
            t = time.perf_counter()
            r = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"GET {path}: {r.status_code}")
        elapsed = time.perf_counter() - started
    return times, len(paths) / elapsed


async def http_concurrent(base: str, paths: Sequence[str], clients: int) -> tuple[list[float], float]:
    """`clients` keep-alive connections pulling from one queue of paths; latencies (ms) and req/s."""
    queue = list(reversed(paths))
    times: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            path = queue.pop()
            t = time.perf_counter()
            r = await client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"GET {path}: {r.status_code}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=HX, timeout=60, limits=limits) as client:
        await asyncio.gather(*(client.get(paths[0]) for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return times, len(paths) / elapsed


def search_paths(queries: Sequence[str], reps: int, seed: int) -> list[str]:
    paths = []
    rng = random.Random(seed)
    for _ in range(reps):
        order = list(queries)
        rng.shuffle(order)
        paths += [str(httpx.URL("/services", params={"q": q})) for q in order]
    return paths


# --- the run -------------------------------------------------------------------------------------------------

async def run(args: argparse.Namespace, var_dir: Path) -> list[Row]:
    table: list[Row] = []
    # Load the whole app now: files edited while the benchmark runs must not mix with those already loaded.
    import app.main  # noqa: F401
    from app.__main__ import migrate

    print(f"data folder: {var_dir}")
    print(f"code under test: {code_fingerprint()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    if args.reuse:
        try:
            await migrate()
        except Exception as exc:
            raise SystemExit(f"cannot bring {var_dir} up to the current migrations ({exc}); "
                             "run without --reuse") from exc
        print("reusing the folder's catalogue: no import (its index is as the import of that day built it)")
    else:
        timings = await setup_and_import(args.items, args.seed, var_dir, profile=args.profile_import)
        print_import(args.items, timings)
        table.append((f"import {args.items:,} items (import_catalogue)", f"< {IMPORT_BUDGET_S:.0f} s",
                      f"{timings['import']:.1f} s ({args.items / timings['import']:,.0f}/s)",
                      timings["import"] < IMPORT_BUDGET_S))
    if args.city:
        city_s = city_import(args.seed)
        table.append(("import 6,494 items (fresh folder)", "—", f"{city_s:.1f} s", None))

    # in-process latency
    print(f"\nsearch() in-process, first page (limit 20), {args.reps} reps per query")
    inproc: dict[str, list[float]] = {}
    for label, queries in (("2-char", QUERIES_2), ("4-char", QUERIES_4)):
        times, per_query, totals = await in_process_latency(queries, args.reps)
        inproc[label] = times
        print(f"  {label}: {summary(times)}")
        slow = sorted(queries, key=lambda q: -statistics.median(per_query[q]))[:5]
        print("    slowest (median ms / matches): " + ", ".join(
            f"{q} {statistics.median(per_query[q]):.1f}/{totals[q]}" for q in slow))
        table.append((f"search() p95, {label}, in-process", f"< {TARGET_P95_MS:.0f} ms",
                      f"{pct(times, 95):.2f} ms", pct(times, 95) < TARGET_P95_MS))

    # recall and precision
    items = await load_items()
    print(f"\nrecall: every query against a substring scan of {len(items):,} published items "
          "(name or summary, normalized; synonyms: union over variants())")
    checks = await recall_check(QUERIES_2 + QUERIES_4, items)
    for group, rows in (("no synonym", [c for c in checks if len(c["variants"]) == 1]),
                        ("with synonyms", [c for c in checks if len(c["variants"]) > 1])):
        expected = sum(c["expected"] for c in rows)
        got = sum(c["got"] for c in rows)
        hit = sum(c["hit"] for c in rows)
        exact = sum(c["hit"] == c["expected"] == c["got"] for c in rows)
        print(f"  {group}: {len(rows)} queries, {exact} exact; expected {expected:,}, returned {got:,}, "
              f"recall {hit / max(expected, 1):.4%}, precision {hit / max(got, 1):.4%}")
    for c in checks:
        if c["hit"] != c["expected"] or c["hit"] != c["got"] or c["total"] != c["got"]:
            print(f"    MISMATCH {c['q']} variants={c['variants']} expected={c['expected']} got={c['got']} "
                  f"total={c['total']} missing={c['missing']} extra={c['extra']}")
    syn = [c for c in checks if len(c["variants"]) > 1]
    print("  synonym queries: " + ", ".join(f"{c['q']}→{'/'.join(c['variants'][1:])} ({c['expected']})"
                                            for c in syn))
    scan = [c["scan_ms"] for c in checks]
    full = [c["all_pages_ms"] for c in checks]
    print(f"  Python substring scan per query: p50 {pct(scan, 50):.1f} ms, p95 {pct(scan, 95):.1f} ms "
          f"(search() first page p50 {pct(inproc['2-char'] + inproc['4-char'], 50):.2f} ms; "
          f"search() all pages p50 {pct(full, 50):.1f} ms, p95 {pct(full, 95):.1f} ms)")
    match_counts = sorted(c["expected"] for c in checks)
    print(f"  matches per query: min {match_counts[0]}, median {match_counts[len(match_counts) // 2]}, "
          f"max {match_counts[-1]}")
    expected = sum(c["expected"] for c in checks)
    got = sum(c["got"] for c in checks)
    hit = sum(c["hit"] for c in checks)
    table.append(("recall (60 queries, vs substring scan)", "100%", f"{hit / max(expected, 1):.4%}",
                  hit == expected))
    table.append(("precision (60 queries)", "100%", f"{hit / max(got, 1):.4%}", hit == got))
    table.append(("Python substring scan p95 (for scale)", "—", f"{pct(scan, 95):.1f} ms", None))

    # where the time goes
    diag = await diagnostics(var_dir, ("社保", "出生", "住房公积", "营业执照"))
    print(f"\ndiagnostics: rows {diag['rows']}, search_gram indexes {diag['indexes']}, "
          f"database {diag['db_mb']:.0f} MB")
    print(f"  one statement's connection: aiosqlite connect+PRAGMA+SELECT 1+close "
          f"{diag['aiosqlite_connect_select1_ms']:.2f} ms; Piccolo raw('SELECT 1') "
          f"{diag['piccolo_raw_select1_ms']:.2f} ms; on a kept sqlite3 connection "
          f"{diag['kept_sqlite3_select1_ms']:.3f} ms")
    per_request, asgi_times = await request_statements("社保", QUERIES_2 + QUERIES_4)
    print(f"  statements per GET /services?q=社保 (htmx fragment, in-process ASGI): {len(per_request)}: "
          + "; ".join(" ".join(sql.split())[:60] for sql, _ in per_request))
    print(f"  GET /services?q= in-process through the app (no network), 60 queries x 5: {summary(asgi_times)}")
    for d in diag["samples"]:
        print(f"  {d['q']} ({d['matches']:,} matches): search() {d['search_ms']:.2f} ms in "
              f"{len(d['statements'])} statement(s)")
        for st in d["statements"]:
            print(f"    {st['fresh_ms']:.2f} ms on a new connection, {st['kept_ms']:.2f} ms on a kept one: "
                  f"{st['sql']}…")
            for line in st["plan"]:
                print(f"      plan: {line}")

    # HTTP
    print(f"\nload average before HTTP: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"\nHTTP: python -m app serve --workers 1 on {base} (YIWANG_BENCH_BASELINE=1)")
    proc = start_server(var_dir, port)
    try:
        http: dict[str, tuple[list[float], float]] = {}
        for label, queries in (("2-char", QUERIES_2), ("4-char", QUERIES_4)):
            http[label] = http_sequential(base, search_paths(queries, args.http_reps, 7))
        n_seq = len(QUERIES_2) * args.http_reps
        http["baseline"] = http_sequential(base, ["/bench/baseline"] * n_seq)
        mixed = search_paths(QUERIES_2 + QUERIES_4, args.http_reps * 2, 11)
        http["search xC"] = await http_concurrent(base, mixed, args.clients)
        http["baseline xC"] = await http_concurrent(base, ["/bench/baseline"] * len(mixed), args.clients)
    finally:
        stop_server(proc)
    print(f"  server stopped (exit {proc.returncode})")
    for label, (times, rps) in http.items():
        name = label.replace("xC", f"x{args.clients}")
        print(f"  {name:14s} {summary(times)}  {rps:7.1f} req/s")
    seq_search = http["2-char"][0] + http["4-char"][0]
    seq_search_rps = (len(seq_search)) / sum(len(http[k][0]) / http[k][1] for k in ("2-char", "4-char"))
    b_times, b_rps = http["baseline"]
    c_times, c_rps = http["search xC"]
    cb_times, cb_rps = http["baseline xC"]
    print(f"  search/baseline, sequential: throughput {seq_search_rps / b_rps:.2f}x, "
          f"p50 latency {pct(seq_search, 50) / pct(b_times, 50):.2f}x")
    print(f"  search/baseline, {args.clients} clients: throughput {c_rps / cb_rps:.2f}x, "
          f"p50 latency {pct(c_times, 50) / pct(cb_times, 50):.2f}x")
    for label in ("2-char", "4-char"):
        times = http[label][0]
        table.append((f"HTTP /services?q= p95, {label}, sequential", f"< {TARGET_P95_MS:.0f} ms",
                      f"{pct(times, 95):.2f} ms", pct(times, 95) < TARGET_P95_MS,
                      f"p95 {pct(times, 95) / pct(b_times, 95):.1f}x its {pct(b_times, 95):.2f} ms"))
    table.append(("HTTP /bench/baseline p95, sequential", "—", f"{pct(b_times, 95):.2f} ms", None))
    table.append((f"HTTP search p95, {args.clients} clients", "—", f"{pct(c_times, 95):.2f} ms", None))
    table.append(("search/baseline throughput, sequential", "—", f"{seq_search_rps / b_rps:.2f}x "
                  f"({seq_search_rps:.0f} vs {b_rps:.0f} req/s)", None))
    table.append((f"search/baseline throughput, {args.clients} clients", "—",
                  f"{c_rps / cb_rps:.2f}x ({c_rps:.0f} vs {cb_rps:.0f} req/s)", None))
    return table


def print_table(rows: Sequence[Row]) -> None:
    """The run's table; with YIWANG_BENCH_ROWS set (bench/run), its rows are also appended there as JSON."""
    full = [(*r, "") if len(r) == 4 else r for r in rows]
    head = ("figure", "target", "measured", "vs baseline")
    widths = [max([len(h)] + [len(r[i]) for r in full]) for i, h in zip((0, 1, 2, 4), head, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False))

    print("\n" + line(head) + "  result")
    print("  ".join("-" * w for w in widths) + "  ------")
    for figure, target, measured, ok, ratio in full:
        print(line((figure, target, measured, ratio or "")) + "  " + {True: "PASS", False: "FAIL", None: "info"}[ok])
    if out := os.environ.get("YIWANG_BENCH_ROWS"):
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps([list(r) for r in full], ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=87_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--city", action="store_true", help="also time a 6,494-item import into a fresh folder")
    parser.add_argument("--reps", type=int, default=10, help="in-process repetitions per query (default 10)")
    parser.add_argument("--http-reps", type=int, default=10, help="HTTP repetitions per query (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--profile-import", action="store_true", help="cProfile import_catalogue")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--reuse", metavar="DIR", help="measure a folder kept by an earlier --keep run (no import)")
    parser.add_argument("--import-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    # Before anything imports app: settings and the engine read the folder once.
    var_dir = use_var_dir(Path(args.reuse)) if args.reuse else fresh_var_dir()
    args.keep = args.keep or bool(args.reuse)
    try:
        if args.import_only:
            timings = asyncio.run(setup_and_import(args.items, args.seed, var_dir, profile=args.profile_import))
            print_import(args.items, timings)
            print("RESULT " + json.dumps(timings))
            return
        print_table(asyncio.run(run(args, var_dir)))
    finally:
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
