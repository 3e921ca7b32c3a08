"""/supervision and /stats at 5,000,000 cases: the supervisor's dashboard and the public statistics, beside the bare
page.

    python -m bench.supervision [--clients 16] [--seconds 20] [--keep] [--reuse DIR] [--fresh] [--strict-seed]

The data is bench.lifelong's (1,000,000 persons, 5,000,000 cases over three years, see that module), taken from its
cache when it is there, plus what issue #7 adds, written in bulk with sqlite3: officers (clerk, reviewer, approver)
in every department that has cases and their steps on the open cases they hold, ratings of `--rated` (30%) of the
decided cases by their applicants (mostly 满意 and better, ~3.5% 不满意 or worse), a rectification task for every bad
rating in the state its age gives it (open, answered, appealed, accepted, closed) with its steps, and the closed
deadline cards of the decided cases that reached their last working day or ran late. That file is cached too.

Then the real code paths, timed: `python -m app stats rebuild` (the roll-ups), the card job `supervision.cards`
alone, and `python -m app jobs run` (every job, the card job's second run). Then a supervisor of ZH-HALL (a session
row, no login), `python -m app serve --workers 1` (in-process jobs off), and `--clients` connections on GET
/supervision (as the supervisor), GET /stats (anonymous) and GET /bench/baseline (both ways), in alternating halves
of `--seconds` each, then each sequentially on one connection. Any response other than 200 stops the run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import lifelong
from bench.filing import Row
from bench.lifelong import DAY, Phase, _day, _indexes, _insert, _ts
from bench.search import (
    captured_statements,
    free_port,
    fresh_var_dir,
    pct,
    print_table,
    start_server,
    stop_server,
    summary,
    use_var_dir,
)

ROOT = Path(__file__).resolve().parent.parent
CACHE_ROOT = Path(tempfile.gettempdir()) / "yiwang-bench-supervision-cache"
SEED_FORMAT = 1  # bump when the #7 data below changes what it writes
RATED = 0.30
RECTIFY_DAYS = 15  # working days a department has to answer a bad rating
SUPERVISOR_MOBILE = "13500000001"
OFFICER_MOBILE = "136"
SESSION_AGENT = "bench.supervision"
TARGET_SUPERVISION_MS = 200.0
TARGET_STATS_MS = 50.0
BATCH = 100_000

LEVELS_APPROVED = {5: 0.74, 4: 0.18, 3: 0.058, 2: 0.015, 1: 0.007}
LEVELS_REFUSED = {5: 0.40, 4: 0.25, 3: 0.20, 2: 0.10, 1: 0.05}
GOOD_TAGS = ("办事效率高", "服务态度好", "一次办成", "材料要求清楚", "网上办理方便", "进度查询及时")
BAD_TAGS = ("办理时间长", "材料要求不清", "多次跑动", "服务态度差", "系统不好用", "答复不明确")
GOOD_COMMENTS = ("很方便，不用跑窗口。", "工作人员答复很快，点赞。", "全程网上办，省时省力。",
                 "流程清楚，一次就办好了。")
BAD_COMMENTS = ("等了很久才有结果。", "补正要求前后不一致，跑了两次。", "电话一直打不通，进度也看不到。",
                "材料清单写得不清楚。")
ANSWERS = ("已核实情况，对相关窗口人员进行提醒谈话，并优化了材料清单说明。",
           "经查，办理时限内因系统升级延误，已向申请人致歉并完善了应急流程。",
           "已联系申请人说明不予许可的依据，并在办事指南中补充了常见问题。")
OFFICER_NAMES = ("陈", "李", "张", "黄", "何", "林", "梁", "罗", "吴", "郑")
OFFICER_GIVEN = ("晓敏", "志强", "丽娟", "建华", "嘉欣", "伟明", "淑芬", "国栋", "海燕", "俊杰")


# --- the seeded file ------------------------------------------------------------------------------------------------

def cache_path(args: argparse.Namespace, migrations: Sequence[Path] | None = None) -> Path:
    """This benchmark's seeded file: lifelong's data (its key: schema, catalogue, generator, sizes) plus the #7
    data's own format and share of rated cases."""
    h = hashlib.sha256(f"{lifelong.cache_key(args, migrations)} {SEED_FORMAT} {args.rated}".encode())
    return CACHE_ROOT / f"{args.cases}-{h.hexdigest()[:16]}" / "yiwang.sqlite3"


def lifelong_path(args: argparse.Namespace, migrations: Sequence[Path] | None = None) -> Path:
    return lifelong.CACHE_ROOT / lifelong.cache_key(args, migrations) / "yiwang.sqlite3"


def cached_file(args: argparse.Namespace, path_for: Any) -> tuple[Path, list[str]] | None:
    """The cached file `path_for(args, migrations)` names for today's migrations, and the migrations it lacks (none).
    Without --strict-seed a file cached under an earlier list of migrations (before newer ones were added) counts
    too, the newest first; the copy is migrated. None when nothing fits (or --fresh)."""
    if args.fresh:
        return None
    files = sorted((ROOT / "migrations").glob("*.py"))
    for n in range(len(files), 0, -1):
        if n < len(files) and args.strict_seed:
            break
        cached = path_for(args, files[:n])
        if cached.exists():
            return cached, [f.name for f in files[n:]]
    return None


def prepare(args: argparse.Namespace) -> Path:
    """The data folder to measure: a kept one (--reuse), a copy of this benchmark's cached file, or lifelong's data
    (cached or seeded anew) with the #7 data added and cached."""
    if args.reuse:
        var_dir = use_var_dir(Path(args.reuse))
        lifelong.migrate()
        return var_dir
    var_dir = fresh_var_dir()
    db_path = var_dir / "yiwang.sqlite3"
    print(f"seed sizes: {lifelong.seed_sizes(args)}, rated share {args.rated}", flush=True)
    mine = cached_file(args, cache_path)
    if mine:
        copy(mine, db_path, "this benchmark's seeded file")
        return var_dir
    base = cached_file(args, lifelong_path)
    if base:
        copy(base, db_path, "bench.lifelong's seeded file")
    else:
        started = time.perf_counter()
        print("no cached bench.lifelong file for these sizes (or --fresh): seeding it (about 15 minutes at "
              "5,000,000 cases)", flush=True)
        lifelong.migrate()
        asyncio.run(lifelong.seed(args, db_path))
        print(f"bench.lifelong's seeding: {time.perf_counter() - started:.0f}s", flush=True)
    t = time.perf_counter()
    counts = add_supervision_data(db_path, args)
    print(f"#7 data {counts}: {time.perf_counter() - t:.1f}s", flush=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for old in CACHE_ROOT.glob(f"{args.cases}-*"):  # one cached file per size: they are gigabytes
        shutil.rmtree(old, ignore_errors=True)
    target = cache_path(args)
    target.parent.mkdir(parents=True)
    t = time.perf_counter()
    shutil.copyfile(db_path, target)
    print(f"cached as {target} in {time.perf_counter() - t:.1f}s", flush=True)
    return var_dir


def copy(found: tuple[Path, list[str]], dst: Path, what: str) -> None:
    """Copy a cached file into the data folder, and bring it up to today's migrations if it was cached before some."""
    src, missing = found
    t = time.perf_counter()
    shutil.copyfile(src, dst)
    print(f"{what} {src} ({src.stat().st_size / 1e9:.2f} GB): copied in {time.perf_counter() - t:.1f}s "
          "(--fresh seeds again)", flush=True)
    if missing:
        print(f"  it was cached before the migrations {', '.join(missing)}: migrating the copy", flush=True)
        lifelong.migrate()


async def app_facts() -> dict[str, Any]:
    """What the bulk writer needs from the app: the working-day calendar, a password hash, the hall's id."""
    from app.accounts.passwords import hash_password
    from app.db import close_pool, start_pool
    from app.registry.tables import Department
    from app.workdays.calendar import load_calendar

    await start_pool()
    try:
        hall = await Department.select(Department.id).where(Department.code == "ZH-HALL").first()
        assert hall, "no ZH-HALL department"
        return {"calendar": await load_calendar(), "password_hash": await hash_password(lifelong.PASSWORD),
                "hall": hall["id"]}
    finally:
        await close_pool()


def _pick(rng: random.Random, weights: dict[int, float]) -> int:
    return rng.choices(list(weights), list(weights.values()))[0]


def add_supervision_data(db_path: Path, args: argparse.Namespace) -> dict[str, int]:
    """Officers, their steps on open cases, ratings, rectifications and past cards, raw in batches with the
    tables' secondary indexes dropped and built again afterwards (the migrations' own statements)."""
    from app.supervision.rollup import DECIDED_STATES, SATISFIED_LEVEL

    facts = asyncio.run(app_facts())
    cal = facts["calendar"]
    rng = random.Random(args.seed + 7)
    now = datetime.now(UTC).replace(microsecond=0).timestamp()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    tables = ("rating", "rectification", "rectification_step", "case_card", "case_step", "officer_role")
    indexes = _indexes(conn, tables)
    for sql in indexes:
        conn.execute("DROP INDEX " + sql.split()[2])
    totals: Counter[str] = Counter()

    # Officers: a clerk, a reviewer and an approver in every department with cases; the hall's supervisor.
    departments = [r[0] for r in conn.execute("SELECT DISTINCT department FROM filing_case ORDER BY 1")]
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM app_user").fetchone()[0]
    stamp = _ts(now - 400 * DAY)
    users, roles = [], []
    officers: dict[tuple[int, str], int] = {}
    for k, (dept, role) in enumerate((d, r) for d in departments for r in ("clerk", "reviewer", "approver")):
        uid = first + k
        officers[(dept, role)] = uid
        name = OFFICER_NAMES[k % len(OFFICER_NAMES)] + OFFICER_GIVEN[(k // len(OFFICER_NAMES)) % len(OFFICER_GIVEN)]
        users.append((uid, f"{OFFICER_MOBILE}{k + 1:08d}", facts["password_hash"], name, "officer", dept, 1, stamp,
                      stamp, stamp))
        roles.append((uid, role))
    supervisor = first + len(users)
    users.append((supervisor, SUPERVISOR_MOBILE, facts["password_hash"], "何志远", "officer", facts["hall"], 1,
                  stamp, stamp, stamp))
    roles.append((supervisor, "supervisor"))
    totals["officers"] = len(users)
    _insert(conn, "app_user", "id, mobile, password_hash, display_name, kind, department, is_active, created_at,"
            " activated_at, last_login_at", users)
    _insert(conn, "officer_role", "\"user\", role", roles)

    # The steps of the open cases an officer has acted on: whoever acted last holds the case's card.
    steps = []
    for case_id, dept, state, submitted, updated in conn.execute(
            "SELECT id, department, state, submitted_at, updated_at FROM filing_case WHERE state IN"
            " ('correction_requested', 'resubmitted', 'accepted', 'under_review')"):
        start = datetime.fromisoformat(submitted).timestamp()
        if state in ("correction_requested", "resubmitted"):
            steps.append((case_id, "request_correction", "submitted", "correction_requested",
                          officers[(dept, "clerk")], dept, lifelong.OPINIONS["correction_requested"], 0,
                          _ts(start + DAY)))
            continue
        accepted = start + DAY if state == "under_review" else datetime.fromisoformat(updated).timestamp()
        steps.append((case_id, "accept", "submitted", "accepted", officers[(dept, "clerk")], dept, "", 1,
                      _ts(accepted)))
        if state == "under_review":
            steps.append((case_id, "review", "accepted", "under_review", officers[(dept, "reviewer")], dept,
                          lifelong.OPINIONS["under_review"], 2, updated))
    totals["case steps"] = len(steps)
    _insert(conn, "case_step", "\"case\", action, from_state, to_state, actor, department, opinion, days_used,"
            " created_at", steps)

    # Ratings of the decided cases, rectifications of the bad ones, and the cards the decided cases earned.
    marks = ", ".join("?" for _ in DECIDED_STATES)
    ratings: list[tuple[Any, ...]] = []
    fixes: list[tuple[Any, ...]] = []
    fix_steps: list[tuple[Any, ...]] = []
    cards: list[tuple[Any, ...]] = []
    first_rating = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM rating").fetchone()[0]
    first_fix = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM rectification").fetchone()[0]
    sql = (f"SELECT id, department, item, applicant, state, decided_on, clock_started_on, limit_days, "  # noqa: S608
           f"paused_days, days_used FROM filing_case WHERE state IN ({marks}) ORDER BY id")
    cur = conn.execute(sql, DECIDED_STATES)
    while chunk := cur.fetchmany(BATCH):
        for case_id, dept, item, applicant, state, decided_on, started_on, limit, paused, used in chunk:
            approver = officers[(dept, "approver")]
            if used is not None and limit and used >= limit - 1 and state != "rejected":
                start = date.fromisoformat(started_on)
                issued = cal.add_working_days(start, limit - 1 + paused)
                red = cal.add_working_days(start, limit + 1 + paused) if used > limit else None
                if issued.isoformat() <= decided_on:  # the job saw it open with one day left
                    cards.append((case_id, dept, approver, "red" if red else "yellow", issued.isoformat(),
                                  red.isoformat() if red else None, decided_on))
            if rng.random() >= args.rated:
                continue
            decided_at = datetime.fromisoformat(decided_on + "T00:00:00+08:00").timestamp()
            rated_at = decided_at + rng.expovariate(1 / (3 * DAY)) + rng.uniform(8, 22) * 3600
            if rated_at > now or rated_at > decided_at + 30 * DAY:
                continue
            level = _pick(rng, LEVELS_APPROVED if state == "approved" else LEVELS_REFUSED)
            bad = level < SATISFIED_LEVEL
            tags = rng.sample(BAD_TAGS if bad else GOOD_TAGS, rng.choice((0, 1, 1, 2)))
            comment = rng.choice(BAD_COMMENTS if bad else GOOD_COMMENTS) if bad or rng.random() < 0.15 else ""
            rating_id = first_rating + totals["ratings"]
            totals["ratings"] += 1
            totals[f"level {level}"] += 1
            ratings.append((rating_id, case_id, dept, item, applicant, level, json.dumps(tags, ensure_ascii=False),
                            comment, _ts(rated_at)))
            if bad:
                fix_id = first_fix + totals["rectifications"]
                totals["rectifications"] += 1
                fix, fsteps = rectification(rng, fix_id, rating_id, case_id, dept, applicant, approver,
                                            facts["hall"], supervisor, rated_at, now, cal)
                totals[f"rectification {fix[4]}"] += 1
                fixes.append(fix)
                fix_steps += fsteps
        _insert(conn, "rating", "id, \"case\", department, item, rater, level, tags, comment, created_at", ratings)
        _insert(conn, "rectification", "id, rating, \"case\", department, state, round, due_on, answer,"
                " answered_by, answered_at, created_at, updated_at, closed_at", fixes)
        _insert(conn, "rectification_step", "rectification, action, actor, department, text, created_at", fix_steps)
        totals["past cards"] += len(cards)
        _insert(conn, "case_card", "\"case\", department, officer, color, issued_on, red_on, closed_on", cards)
    t = time.perf_counter()
    for sql in indexes:
        conn.execute(sql)
    print(f"  {len(indexes)} secondary indexes built again ({', '.join(tables)}): {time.perf_counter() - t:.1f}s",
          flush=True)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return dict(totals)


def rectification(rng: random.Random, fix_id: int, rating_id: int, case_id: int, dept: int, rater: int,
                  approver: int, hall: int, supervisor: int, rated_at: float, now: float,
                  cal: Any) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """A bad rating's task in the state its age gives it: recent ones open or answered, older ones mostly accepted,
    some appealed and ruled on by the supervisor; (row, steps)."""
    due = cal.add_working_days(_day(rated_at), RECTIFY_DAYS)
    age = (now - rated_at) / DAY
    if age > 60:
        state = rng.choices(("accepted", "closed"), (0.88, 0.12))[0]
    elif age > 15:
        state = rng.choices(("open", "answered", "appealed", "accepted", "closed"), (0.05, 0.25, 0.1, 0.5, 0.1))[0]
    else:
        state = rng.choices(("open", "answered", "appealed", "accepted"), (0.5, 0.35, 0.05, 0.1))[0]
    steps = [(fix_id, "opened", rater, None, "", _ts(rated_at))]
    answered_at = closed_at = None
    answer = ""
    last = rated_at
    if state != "open":
        answered_at = min(now, rated_at + rng.uniform(1, min(age, 20)) * DAY)
        answer = rng.choice(ANSWERS)
        steps.append((fix_id, "answered", approver, dept, answer, _ts(answered_at)))
        last = answered_at
        if state in ("appealed", "closed"):
            last = min(now, answered_at + rng.uniform(0.2, 3) * DAY)
            steps.append((fix_id, "appealed", rater, None, "整改答复没有解决问题，申请复核。", _ts(last)))
        if state == "closed":
            closed_at = last = min(now, last + rng.uniform(1, 5) * DAY)
            steps.append((fix_id, "ruled", supervisor, hall, "经复核，部门整改答复属实，予以办结。", _ts(closed_at)))
        elif state == "accepted":
            closed_at = last = min(now, answered_at + rng.uniform(0.1, 5) * DAY)
            steps.append((fix_id, "accepted", rater, None, "", _ts(closed_at)))
    row = (fix_id, rating_id, case_id, dept, state, 1, due.isoformat(), answer,
           approver if answered_at else None, _ts(answered_at) if answered_at else None, _ts(rated_at), _ts(last),
           _ts(closed_at) if closed_at else None)
    return row, steps


# --- the real code paths over the data ------------------------------------------------------------------------------

def app_command(*argv: str) -> float:
    """`python -m app ARGV` on the data folder, its output printed; its wall time (process start included).
    A failure stops the run."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "app", *argv], env=dict(os.environ), cwd=ROOT,  # noqa: S603
                         capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"python -m app {' '.join(argv)} FAILED (exit {out.returncode}): {out.stderr[-800:]}")
    print(f"python -m app {' '.join(argv)}: {' '.join(out.stdout.split())} ({elapsed:.1f}s)", flush=True)
    return elapsed


async def card_job() -> tuple[int, float] | None:
    """The job supervision.cards alone (its first run over the data: every card due today); None if the app has no
    such job."""
    from app import jobs
    from app.db import close_pool, start_pool
    from app.workdays.calendar import local_today

    job = jobs.scheduled().get("supervision.cards")
    if job is None:
        return None
    await start_pool()
    try:
        t = time.perf_counter()
        changed = await job(local_today())
        return changed, time.perf_counter() - t
    finally:
        await close_pool()


def table_sizes(db_path: Path) -> dict[str, Any]:
    with sqlite3.connect(db_path) as conn:
        q = conn.execute
        out: dict[str, Any] = {t: q(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608 - our own names
                               for t in ("filing_case", "rating", "rectification", "case_rollup", "case_card")}
        out["active cards"] = dict(q("SELECT color, COUNT(*) FROM case_card WHERE closed_on IS NULL GROUP BY color"))
        out["closed cards"] = dict(q("SELECT color, COUNT(*) FROM case_card WHERE closed_on IS NOT NULL"
                                     " GROUP BY color"))
        out["rectifications"] = dict(q("SELECT state, COUNT(*) FROM rectification GROUP BY state ORDER BY 2 DESC"))
        out["roll-up months"] = q("SELECT COUNT(DISTINCT month) FROM case_rollup").fetchone()[0]
        out["MB"] = round(sum(p.stat().st_size for p in db_path.parent.glob("yiwang.sqlite3*")) / 1e6)
    return out


def add_session(db_path: Path) -> str:
    """A fresh session for the hall's supervisor (what a login inserts); its token."""
    from app.accounts.sessions import hash_token

    token = secrets.token_urlsafe(32)
    now = str(datetime.now(UTC))
    with sqlite3.connect(db_path) as conn:
        uid = conn.execute("SELECT id FROM app_user WHERE mobile = ?", (SUPERVISOR_MOBILE,)).fetchone()[0]
        conn.execute("DELETE FROM web_session WHERE user_agent = ?", (SESSION_AGENT,))
        conn.execute("INSERT INTO web_session (token_hash, \"user\", created_at, last_seen_at, ip, user_agent)"
                     " VALUES (?, ?, ?, ?, '127.0.0.1', ?)", (hash_token(token), uid, now, now, SESSION_AGENT))
    return token


def refresh_session(db_path: Path) -> None:
    """The session as just used: a phase then measures without the once-a-minute `last_seen` write."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE web_session SET last_seen_at = ? WHERE user_agent = ?",
                     (str(datetime.now(UTC)), SESSION_AGENT))


# --- HTTP -----------------------------------------------------------------------------------------------------------

async def load(base: str, path: str, cookie: str | None, clients: int, seconds: float, phase: Phase) -> None:
    """`clients` keep-alive connections requesting `path` (with the session cookie, or anonymous) until the time
    is up; a response other than 200 is an error."""
    stop_at = time.perf_counter() + seconds
    headers = {"Cookie": cookie} if cookie else {}

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            try:
                r = await client.get(path, headers=headers)
            except httpx.HTTPError as exc:
                phase.errors.append(f"GET {path}: {type(exc).__name__} {exc}")
                continue
            phase.times.append((time.perf_counter() - t) * 1000)
            client.cookies.clear()  # only the cookie given is sent: no CSRF or other cookie piles up
            phase.size += len(r.content)
            if r.status_code != 200:
                phase.errors.append(f"GET {path}: {r.status_code} {r.headers.get('location', '')}")

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    conns = [httpx.AsyncClient(base_url=base, timeout=60, limits=limits) for _ in range(clients)]
    try:
        await asyncio.gather(*(c.get("/healthz") for c in conns))
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        phase.elapsed += time.perf_counter() - started
    finally:
        for c in conns:
            await c.aclose()


def first_requests(base: str, cookie: str) -> dict[str, float]:
    """Each page once on the fresh server (cold caches), in ms; a page that does not answer 200 stops the run."""
    out = {}
    for path, headers in (("/supervision", {"Cookie": cookie}), ("/stats", {}), ("/bench/baseline", {})):
        t = time.perf_counter()
        r = httpx.get(base + path, headers=headers, timeout=120)
        out[path] = (time.perf_counter() - t) * 1000
        if r.status_code != 200:
            raise SystemExit(f"GET {path}: {r.status_code} {r.headers.get('location', '')} — the page must answer "
                             f"200 (does it exist yet?)")
    return out


PAGES = (("supervision", "/supervision", True), ("baseline (supervisor)", "/bench/baseline", True),
         ("stats", "/stats", False), ("baseline (anonymous)", "/bench/baseline", False))


async def http_run(args: argparse.Namespace, base: str, db_path: Path, cookie: str) -> dict[str, Phase]:
    phases = {f"{name}{suffix}": Phase() for name, _, _ in PAGES for suffix in ("", " seq")}
    for _, path, logged_in in PAGES:  # warm the worker's code paths; not counted
        await load(base, path, cookie if logged_in else None, min(4, args.clients), 1.0, Phase())
    half = args.seconds / 2
    seq = max(1.0, args.seq_seconds / 2)
    # Alternating halves: drift in the machine's load hits every page alike.
    for clients, seconds, suffix in ((args.clients, half, ""), (args.clients, half, ""), (1, seq, " seq"),
                                     (1, seq, " seq")):
        for name, path, logged_in in PAGES:
            refresh_session(db_path)
            phase = phases[name + suffix]
            await load(base, path, cookie if logged_in else None, clients, seconds, phase)
            if phase.errors:  # an error page's figures mean nothing: stop here, loudly
                raise SystemExit(f"{len(phase.errors)} of {len(phase.times)} requests failed, first: "
                                 f"{phase.errors[0]} (see the server's log, {db_path.parent / 'server.log'})")
    return phases


# --- where one page goes --------------------------------------------------------------------------------------------

async def diagnose(db_path: Path, cookie: str) -> None:
    """GET /supervision and /stats in-process (real app, no server): the statements each runs on its first and its
    second request, each timed on a kept sqlite3 connection (warm page cache), heaviest first, with its plan."""
    import logging

    from litestar.testing import AsyncTestClient

    from app.main import create_app

    kept = sqlite3.connect(db_path, isolation_level=None)
    async with AsyncTestClient(app=create_app()) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for path, headers in (("/supervision", {"Cookie": cookie}), ("/stats", {})):
            for attempt in ("first", "second"):
                client.cookies.clear()

                async def one(p: str = path, h: dict[str, str] = headers) -> None:
                    r = await client.get(p, headers=h)
                    assert r.status_code == 200, (p, r.status_code)

                t = time.perf_counter()
                statements = await captured_statements(one)
                ms = (time.perf_counter() - t) * 1000
                timed = []
                for sql, params in statements:
                    key = " ".join(sql.split())
                    if not key.upper().startswith(("SELECT", "WITH")):
                        timed.append((0.0, 0, key, []))
                        continue
                    t = time.perf_counter()
                    got = kept.execute(sql, params).fetchall()
                    timed.append(((time.perf_counter() - t) * 1000, len(got), key,
                                  [r[3] for r in kept.execute("EXPLAIN QUERY PLAN " + sql, params)]))
                print(f"\nGET {path} in-process, {attempt} request: {ms:.1f} ms, {len(statements)} statements "
                      f"({sum(x[0] for x in timed):.1f} ms of SQL on a kept connection), heaviest first:")
                for sql_ms, n, key, plan in sorted(timed, key=lambda x: -x[0])[:12]:
                    print(f"  {sql_ms:8.2f} ms rows {n:6d}  {key[:160]}")
                    for step in plan if sql_ms >= 1 else []:
                        print(f"             plan: {step}")
    kept.close()


# --- the run --------------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace, var_dir: Path) -> list[Row]:
    """The jobs, the HTTP phases (a non-200 stops the run), the in-process breakdown; the table's rows."""
    from app.accounts.sessions import SESSION_COOKIE

    db_path = var_dir / "yiwang.sqlite3"
    table: list[Row] = []
    rebuild_s = jobs_s = None
    cards = None
    if args.jobs:
        rebuild_s = app_command("stats", "rebuild")
        cards = asyncio.run(card_job())
        if cards is None:
            print("the app has no job supervision.cards yet: no card job timed", flush=True)
        else:
            print(f"job supervision.cards alone (first run over the data): {cards[0]:,} cards changed in "
                  f"{cards[1]:.1f}s", flush=True)
        jobs_s = app_command("jobs", "run")
    t = time.perf_counter()
    sizes = table_sizes(db_path)
    print(f"data ({time.perf_counter() - t:.1f}s to count): {sizes}", flush=True)
    cookie = f"{SESSION_COOKIE}={add_session(db_path)}"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"\nHTTP: python -m app serve --workers 1 on {base} (one worker process; YIWANG_BENCH_BASELINE=1, "
          "YIWANG_JOBS_INTERVAL_MINUTES=0)", flush=True)
    proc = start_server(var_dir, port)
    try:
        cold = first_requests(base, cookie)
        print("  first request on the fresh server: " + ", ".join(f"{p} {ms:.0f} ms" for p, ms in cold.items()),
              flush=True)
        load_before = os.getloadavg()
        phases = asyncio.run(http_run(args, base, db_path, cookie))
        load_after = os.getloadavg()
    finally:
        stop_server(proc)
    print(f"  server stopped (exit {proc.returncode})")
    print(f"\n{args.clients} clients, {args.seconds:.0f}s per page in alternating halves, then one connection "
          f"{args.seq_seconds:.0f}s per page; load average {' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in load_after)} after ({os.cpu_count()} CPUs)")
    for name, p in phases.items():
        print(f"  {name:28s} {summary(p.times)}  {p.rps:7.1f} req/s  {p.size / max(1, len(p.times)) / 1000:6.1f} KB")

    if args.diagnose:
        refresh_session(db_path)
        asyncio.run(diagnose(db_path, cookie))

    for page, target, baseline in (("supervision", TARGET_SUPERVISION_MS, "baseline (supervisor)"),
                                   ("stats", TARGET_STATS_MS, "baseline (anonymous)")):
        for suffix, how in (("", f"{args.clients} clients"), (" seq", "sequential")):
            p, b = phases[page + suffix], phases[baseline + suffix]
            p95 = pct(p.times, 95)
            table.append((f"/{page} p95, {how}", f"< {target:.0f} ms",
                          f"{p95:.1f} ms (p50 {pct(p.times, 50):.1f})", p95 < target,
                          f"p95 {p95 / pct(b.times, 95):.1f}x its {pct(b.times, 95):.1f} ms; "
                          f"{p.rps / b.rps:.0%} of its req/s"))
        table.append((f"/{page} first request (cold)", "—", f"{cold['/' + page]:.0f} ms", None))
    if args.jobs:
        table.append(("python -m app stats rebuild", "—", f"{rebuild_s:.1f} s → {sizes['case_rollup']:,} roll-up "
                      f"rows ({sizes['roll-up months']} months)", None))
        table.append(("job supervision.cards, first run", "—",
                      "no such job" if cards is None else f"{cards[1]:.1f} s, {cards[0]:,} cards changed", None))
        table.append(("python -m app jobs run (all jobs)", "—", f"{jobs_s:.1f} s", None))
    table.append(("case_card rows", "—", f"{sizes['case_card']:,} (active {sizes['active cards']}, closed "
                  f"{sizes['closed cards']})", None))
    table.append(("ratings / rectifications", "—", f"{sizes['rating']:,} / {sizes['rectification']:,} over "
                  f"{sizes['filing_case']:,} cases", None))
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.supervision", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per page, concurrent (default 20)")
    parser.add_argument("--seq-seconds", type=float, default=6.0, help="seconds per page, sequential (default 6)")
    parser.add_argument("--persons", type=int, default=lifelong.PERSONS, help="registry persons (1,000,000)")
    parser.add_argument("--entities", type=int, default=lifelong.ENTITIES, help="registry enterprises (20,000)")
    parser.add_argument("--users", type=int, default=lifelong.USERS, help="activated accounts in all (250,000)")
    parser.add_argument("--citizens", type=int, default=lifelong.CITIZENS, help="bench.lifelong's measured (10,000)")
    parser.add_argument("--cases", type=int, default=lifelong.CASES, help="cases (5,000,000)")
    parser.add_argument("--rated", type=float, default=RATED, help="share of decided cases rated (0.30)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--diagnose", action=argparse.BooleanOptionalAction, default=True,
                        help="time the SQL of both pages in-process (default on)")
    parser.add_argument("--jobs", action=argparse.BooleanOptionalAction, default=True,
                        help="run and time stats rebuild and the jobs first (default on; --no-jobs with --reuse "
                             "of a folder that has them measures the pages only)")
    parser.add_argument("--strict-seed", action="store_true",
                        help="take bench.lifelong's cached file only if cached under today's migrations (default: "
                             "also one cached before newer migrations, migrated after copying)")
    parser.add_argument("--fresh", action="store_true", help="seed again even if a cache has the file")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--reuse", metavar="DIR", help="measure a folder kept by an earlier --keep run")
    args = parser.parse_args(argv)
    os.environ["YIWANG_JOBS_INTERVAL_MINUTES"] = "0"  # no job in the server while it is measured
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)", flush=True)
    var_dir = prepare(args)
    print(f"data folder: {var_dir}", flush=True)
    try:
        print_table(run(args, var_dir))
    finally:
        if args.keep or args.reuse:
            print(f"kept {var_dir} (measure it again with --reuse {var_dir})")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
