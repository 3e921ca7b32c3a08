"""/me benchmark: the personal page of 10,000 random citizens among 1,000,000 persons and 5,000,000 cases.

    python -m bench.lifelong [--clients 64] [--seconds 20] [--keep] [--reuse DIR] [--fresh] [--profile FILE]

A fresh data folder under /tmp (SQLite): `python -m app migrate`, departments, the demo catalogue, `--persons`
registry persons in households with their guardian links and `--entities` enterprises (app.registry.bulk, as
`python -m app seed --persons` does), `--users` activated accounts bound to random adults, of whom the first
`--citizens` are the benchmark's, and `--cases` cases over them: about 50 for each benchmark citizen (some held by
their children), the rest over the other accounts, in the states their age gives them (most decided, some under
way or waiting for a correction), with certificates, in-site messages, done to-dos, enterprise memberships and
the recent decisions' audit rows. Then the real reminder job once (`python -m app jobs run`). The seeded file is
cached under /tmp, keyed by the migrations, the demo catalogue, the registry generator and the sizes; a later run
copies it instead of seeding again.

Then a session row per citizen (no login, no argon2), the database file read once into the OS page cache (as a
server that has been running holds it), `python -m app serve --workers 1` (in-process jobs off),
and `--clients` connections each requesting GET /me as a random one of the citizens, then /bench/baseline the
same way, in alternating halves of `--seconds` each; then both sequentially on one connection. Last, the SQL one
/me runs (captured in-process) timed statement by statement with its plan, and optionally a py-spy profile.
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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.audit import chain
from bench.filing import Row
from bench.search import (
    LeanGet,
    busy_line,
    captured_statements,
    cpu_seconds,
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
PERSONS = 1_000_000
ENTITIES = 20_000
USERS = 250_000
CITIZENS = 10_000
CASES = 5_000_000
CASES_PER_CITIZEN = 50
SPAN_DAYS = 3 * 365  # cases were filed over the last three years
PASSWORD = "Bench-pass-2026"  # noqa: S105 - a throwaway password in a throwaway folder
CITIZEN_MOBILE, OTHER_MOBILE = "139", "138"  # the benchmark's citizens are found again by their mobile prefix
SESSION_AGENT = "bench.lifelong"
TARGET_P95_MS = 30.0
TARGET_RATIO = 0.40
SEED_FORMAT = 1  # bump when the seeding below changes what it writes
CACHE_ROOT = Path(tempfile.gettempdir()) / "yiwang-bench-lifelong-cache"
BATCH = 100_000
DAY = 86_400.0
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, no daylight saving


# --- the seeded file and its cache ---------------------------------------------------------------------------------

def seed_sizes(args: argparse.Namespace) -> dict[str, int]:
    return {"persons": args.persons, "entities": args.entities, "users": args.users, "citizens": args.citizens,
            "cases": args.cases, "seed": args.seed, "format": SEED_FORMAT}


def cache_key(args: argparse.Namespace, migrations: Sequence[Path] | None = None) -> str:
    """What decides the seeded file: the schema, the demo catalogue, the registry generator and the sizes.
    `migrations` (default: all of them) lets bench.supervision find a file cached before newer migrations."""
    h = hashlib.sha256(json.dumps(seed_sizes(args), sort_keys=True).encode())
    files = sorted((ROOT / "migrations").glob("*.py")) if migrations is None else list(migrations)
    files += [ROOT / "app" / "catalog" / "data" / "catalogue.json", ROOT / "app" / "registry" / "generator.py"]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def migrate() -> None:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app", "migrate"], env=dict(os.environ), check=True, cwd=ROOT,
                   capture_output=True)
    print(f"migrate (python -m app migrate): {time.perf_counter() - t:.1f}s", flush=True)


def run_jobs() -> None:
    """The real scheduled jobs once over the seeded data: the reminder rules write the live to-dos."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "app", "jobs", "run"], env=dict(os.environ), cwd=ROOT,
                         capture_output=True, text=True, check=False)
    lines = " ".join(out.stdout.split())
    if out.returncode != 0:
        print(f"python -m app jobs run FAILED (exit {out.returncode}) after {time.perf_counter() - t:.1f}s: "
              f"{out.stderr.strip().splitlines()[-1:]}", flush=True)
        return
    print(f"python -m app jobs run: {lines} in {time.perf_counter() - t:.1f}s", flush=True)


def prepare(args: argparse.Namespace) -> Path:
    """The data folder to measure: a kept one (--reuse), a copy of the cached seeded file, or a new seeding."""
    if args.reuse:
        return use_var_dir(Path(args.reuse))
    var_dir = fresh_var_dir()
    print(f"seed sizes: {seed_sizes(args)}", flush=True)
    cached = CACHE_ROOT / cache_key(args) / "yiwang.sqlite3"
    db_path = var_dir / "yiwang.sqlite3"
    if cached.exists() and not args.fresh:
        t = time.perf_counter()
        shutil.copyfile(cached, db_path)
        print(f"seeded file from the cache {cached} ({cached.stat().st_size / 1e9:.2f} GB): copied in "
              f"{time.perf_counter() - t:.1f}s (--fresh seeds again)", flush=True)
        return var_dir
    started = time.perf_counter()
    migrate()
    asyncio.run(seed(args, db_path))
    run_jobs()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"seeding took {time.perf_counter() - started:.0f}s in all; database "
          f"{db_path.stat().st_size / 1e9:.2f} GB", flush=True)
    t = time.perf_counter()
    shutil.rmtree(CACHE_ROOT, ignore_errors=True)  # one cached file at a time: they are gigabytes
    cached.parent.mkdir(parents=True)
    shutil.copyfile(db_path, cached)
    print(f"cached as {cached} in {time.perf_counter() - t:.1f}s", flush=True)
    return var_dir


# --- seeding -------------------------------------------------------------------------------------------------------

@dataclass
class Catalogue:
    """What the bulk loader needs of the catalogue and the app, read through the app before it starts."""

    password_hash: str
    items: list[dict[str, Any]]  # person items: id, name, version, department, hall, limit, cert type, region
    cert_types: dict[int, dict[str, Any]]
    texts: dict[str, str] = field(default_factory=dict)  # UI strings, translated once


async def seed(args: argparse.Namespace, db_path: Path) -> None:
    from app.accounts.passwords import hash_password
    from app.catalog.services import import_catalogue, load_file
    from app.catalog.tables import ServiceItem
    from app.certificates.tables import CertificateType
    from app.db import close_pool, start_pool
    from app.demo import DEMO_CATALOGUE, seed_departments
    from app.filings.services import hall_for
    from app.registry.bulk import load_registry
    from app.registry.tables import Department

    await start_pool()
    try:
        t = time.perf_counter()
        await seed_departments()
        result = await import_catalogue(load_file(str(DEMO_CATALOGUE)), note="bench lifelong")
        print(f"departments + demo catalogue ({result.items_added} items): {time.perf_counter() - t:.1f}s",
              flush=True)
        t = time.perf_counter()
        counts = await load_registry(args.persons, args.entities)
        print(f"registry (app.registry.bulk.load_registry): {counts} in {time.perf_counter() - t:.1f}s", flush=True)

        items = await ServiceItem.select(
            ServiceItem.id, ServiceItem.name, ServiceItem.version, ServiceItem.department,
            ServiceItem.promised_limit_days, ServiceItem.legal_limit_days, ServiceItem.certificate_type,
            ServiceItem.department.region_code.as_alias("region"),
        ).where(ServiceItem.audience_person.eq(True), ServiceItem.status == "published").order_by(ServiceItem.id)
        for it in items:
            it["hall"] = await hall_for(it["department"])
            it["limit"] = it["promised_limit_days"] or it["legal_limit_days"] or 10
        types = await CertificateType.select(CertificateType.id, CertificateType.name, CertificateType.validity_years)
        assert await Department.count() > 0
        catalogue = Catalogue(password_hash=await hash_password(PASSWORD), items=items,
                              cert_types={r["id"]: r for r in types}, texts=ui_texts())
    finally:
        await close_pool()
    print(f"{len(items)} person items, {sum(1 for i in items if i['certificate_type'])} of them issue a "
          f"certificate", flush=True)
    bulk_load(db_path, args, catalogue)


def ui_texts() -> dict[str, str]:
    """The messages and to-dos the app writes, in its own words (formats keep %s for the case number)."""
    from app.filings.workflow import STATES, state_label
    from app.i18n import _
    from app.lifelong.services import PAGE_ACTIVATED

    texts = {f"state:{s}": _("Case %(case_no)s: %(state)s", case_no="%s", state=state_label(s)) for s in STATES}
    texts["activated"], texts["activated_body"] = _(PAGE_ACTIVATED[0]), _(PAGE_ACTIVATED[1])
    texts["certificate"] = _("Your electronic certificate %(name)s is issued", name="%s")
    texts["correction"] = _("Answer the correction for %(item)s", item="%s")
    texts["rating"] = _("Rate the service: %(item)s", item="%s")
    return texts


def _ts(seconds: float) -> str:
    """A UTC timestamp as Piccolo writes one on SQLite."""
    return str(datetime.fromtimestamp(int(seconds), UTC))


_EPOCH = date(1970, 1, 1).toordinal()


def _day(seconds: float) -> date:
    """The local (Asia/Shanghai) calendar day of a UTC instant."""
    return date.fromordinal(_EPOCH + int((seconds + LOCAL_OFFSET) // DAY))


def _years_on(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def _workdays(seconds: float) -> int:
    return int(seconds / DAY * 5 / 7)


def _indexes(conn: sqlite3.Connection, tables: Sequence[str]) -> list[str]:
    """The CREATE INDEX statements of the tables' secondary indexes (not the UNIQUE columns' own)."""
    marks = ", ".join("?" for _ in tables)
    return [r[0] for r in conn.execute(
        f"SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",  # noqa: S608
        tuple(tables))]


def _insert(conn: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        marks = ", ".join("?" for _ in columns.split(","))
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608 - our own names
        conn.execute("COMMIT")
        rows.clear()


CASE_COLUMNS = ("id, case_no, query_code, idempotency_key, item, item_version, department, hall, applicant,"
                " holder_person, state, form_data, answers, correction, limit_days, clock_started_on, paused_since,"
                " paused_days, due_on, decided_on, days_used, version, created_at, submitted_at, updated_at")
CERT_COLUMNS = ("cert_no, certificate_type, \"case\", holder_person, holder_name, department, fields, issued_on,"
                " valid_until, state, revoked_at, revoked_reason, created_at")
NOTE_COLUMNS = "\"user\", title, body, link, created_at, read_at"
TODO_COLUMNS = "holder_person, kind, dedupe, title, body, link, due_on, created_at, done_at"
AUDIT_COLUMNS = ", ".join((*chain.CONTENT, "prev_hash", "row_hash"))
OPINIONS = {"accepted": "", "under_review": "材料齐全，符合法定形式，建议准予。", "approved": "准予许可。",
            "denied": "经审查不符合办理条件，不予许可。", "rejected": "不属于本机关职责范围，不予受理。",
            "correction_requested": "请补正：身份证明材料不清晰，请重新上传。", "withdrawn": "", "submitted": "",
            "resubmitted": ""}
QUERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class Lifecycle:
    """One case's history up to now: (state, when) for every transition, and what the row needs."""

    events: list[tuple[str, float]]
    correction_at: float | None = None
    resubmitted_at: float | None = None


def lifecycle(rng: random.Random, submitted: float, limit_days: int, now: float) -> Lifecycle:
    """Accepted within days (or not accepted, or withdrawn), sometimes a correction first, reviewed and decided
    within the item's time limit; cut off at `now`."""
    cal_limit = limit_days * 7 / 5 * DAY
    accept = submitted + rng.uniform(0.2, 2.5) * DAY
    events: list[tuple[str, float]] = [("submitted", submitted)]
    life = Lifecycle(events)
    r = rng.random()
    if r < 0.03:
        events.append(("rejected", accept))
    elif r < 0.05:
        events.append(("withdrawn", submitted + rng.uniform(0.1, 5) * DAY))
    else:
        if r < 0.13:  # the front desk asks for a correction instead of accepting
            life.correction_at = accept
            events.append(("correction_requested", accept))
            if rng.random() < 0.15:  # never answered: it waits on the page
                return _cut(life, now)
            life.resubmitted_at = accept + rng.uniform(1, 10) * DAY
            events.append(("resubmitted", life.resubmitted_at))
            accept = life.resubmitted_at + rng.uniform(0.2, 2) * DAY
        events.append(("accepted", accept))
        review = accept + rng.uniform(0.2, 0.8) * cal_limit
        events.append(("under_review", review))
        events.append(("approved" if rng.random() < 0.93 else "denied", review + rng.uniform(0.05, 0.2) * cal_limit))
    return _cut(life, now)


def _cut(life: Lifecycle, now: float) -> Lifecycle:
    life.events = [e for e in life.events if e[1] <= now]
    if life.resubmitted_at is not None and life.resubmitted_at > now:
        life.resubmitted_at = None
    if life.correction_at is not None and life.correction_at > now:
        life.correction_at = None
    return life


FINAL = {"approved", "denied", "rejected", "withdrawn"}


def bulk_load(db_path: Path, args: argparse.Namespace, cat: Catalogue) -> None:
    """Accounts, memberships, cases, certificates, messages, to-dos and audit rows, raw executemany in batches
    with the secondary indexes dropped and built again afterwards (the migrations' own statements)."""
    rng = random.Random(args.seed)
    conn = sqlite3.connect(db_path, isolation_level=None)
    # A throwaway file written once: no journal, no fsync; WAL again at the end (the app expects it).
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    now_dt = datetime.now(UTC).replace(microsecond=0)
    now = now_dt.timestamp()
    today = _day(now)
    tables = ("app_user", "enterprise_member", "filing_case", "certificate", "notification", "todo", "audit_event")
    indexes = _indexes(conn, tables)
    t = time.perf_counter()
    for sql in indexes:
        conn.execute("DROP INDEX " + sql.split()[2])

    # Accounts for random adults; the first `citizens` are the benchmark's.
    adult_by = today.replace(year=today.year - 18).isoformat()
    people = conn.execute("SELECT id, name FROM person WHERE birth_date <= ?", (adult_by,)).fetchall()
    n_users = min(args.users, len(people))
    chosen = rng.sample(people, n_users)
    first_user = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM app_user").fetchone()[0]
    users = []  # (user id, person id, name)
    user_rows = []
    for k, (pid, name) in enumerate(chosen):
        uid = first_user + k
        mobile = f"{CITIZEN_MOBILE}{k:08d}" if k < args.citizens else f"{OTHER_MOBILE}{k:08d}"
        joined = now - rng.uniform(SPAN_DAYS + 30, SPAN_DAYS + 400) * DAY
        user_rows.append((uid, mobile, cat.password_hash, name, "citizen", pid, 1, _ts(joined),
                          _ts(joined + rng.uniform(60, 3 * DAY)), _ts(now - rng.uniform(0, 60) * DAY)))
        users.append((uid, pid, name))
    activations = [(u[0], cat.texts["activated"], cat.texts["activated_body"], "/me", r[8], r[8])
                   for u, r in zip(users, user_rows, strict=True)]
    _insert(conn, "app_user", "id, mobile, password_hash, display_name, kind, person, is_active, created_at,"
            " activated_at, last_login_at", user_rows)
    _insert(conn, "notification", NOTE_COLUMNS, activations)
    user_of_person = {u[1]: k for k, u in enumerate(users)}

    # The legal representatives among them act for their enterprises.
    members = [(eid, users[user_of_person[rep]][0], "legal_rep", "all", _ts(now - 30 * DAY))
               for eid, rep in conn.execute("SELECT id, legal_rep FROM legal_entity") if rep in user_of_person]
    n_members = len(members)
    _insert(conn, "enterprise_member", "entity, \"user\", role, scope, created_at", members)

    # The benchmark citizens' children under 18: some of their cases are filed for them.
    child_by = today.replace(year=today.year - 18).isoformat()
    bench_persons = {users[k][1]: k for k in range(args.citizens)}
    kids: dict[int, list[tuple[int, str]]] = {}
    for guardian, child, name in conn.execute(
            "SELECT g.guardian, g.child, p.name FROM guardian_link g JOIN person p ON p.id = g.child"
            " WHERE p.birth_date > ?", (child_by,)):
        if guardian in bench_persons:
            kids.setdefault(bench_persons[guardian], []).append((child, name))
    print(f"{n_users:,} accounts ({args.citizens:,} benchmark citizens, {len(kids):,} of them with children under "
          f"18), {n_members:,} enterprise memberships: {time.perf_counter() - t:.1f}s", flush=True)

    # Who files each case, in filing order: ~50 per benchmark citizen (a gamma spread), the rest over the others.
    t = time.perf_counter()
    mean = min(CASES_PER_CITIZEN, args.cases / (2 * args.citizens))
    owners: list[int] = []
    for k in range(args.citizens):
        owners += [k] * round(rng.gammavariate(2.0, mean / 2))
    owners += [rng.randrange(args.citizens, n_users) for _ in range(max(0, args.cases - len(owners)))]
    del owners[args.cases:]
    rng.shuffle(owners)
    bench_cases = sum(1 for k in owners if k < args.citizens)
    print(f"{len(owners):,} cases to write, {bench_cases:,} of them the benchmark citizens' "
          f"({bench_cases / args.citizens:.1f} each on average): {time.perf_counter() - t:.1f}s", flush=True)

    t = time.perf_counter()
    counts = write_cases(conn, rng, owners, users, kids, cat, args.citizens, now)
    print(f"cases and what follows them, {counts}: {time.perf_counter() - t:.1f}s", flush=True)

    t = time.perf_counter()
    for sql in indexes:
        conn.execute(sql)
    print(f"{len(indexes)} secondary indexes built again ({', '.join(tables)}): {time.perf_counter() - t:.1f}s",
          flush=True)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def write_cases(conn: sqlite3.Connection, rng: random.Random, owners: list[int], users: list[tuple[int, int, str]],
                kids: dict[int, list[tuple[int, str]]], cat: Catalogue, citizens: int, now: float) -> dict[str, int]:
    texts = cat.texts
    items = cat.items
    n_items = len(items)
    first_case = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM filing_case").fetchone()[0]
    start = now - SPAN_DAYS * DAY
    spacing = SPAN_DAYS * DAY / max(1, len(owners))
    recent = now - 90 * DAY
    form = json.dumps({"applicant_name": "申请人", "query_purpose": "就业"}, ensure_ascii=False)
    correction = json.dumps({"materials": ["ID_CARD"], "fields": [], "note": OPINIONS["correction_requested"]},
                            ensure_ascii=False)
    cases: list[tuple[Any, ...]] = []
    certs: list[tuple[Any, ...]] = []
    notes: list[tuple[Any, ...]] = []
    todos: list[tuple[Any, ...]] = []
    audits: list[tuple[Any, ...]] = []
    counters: Counter[tuple[int, int]] = Counter()
    totals: Counter[str] = Counter()
    for i, k in enumerate(owners):
        uid, pid, holder_name = users[k]
        if k < citizens and k in kids and rng.random() < 0.1:
            pid, holder_name = rng.choice(kids[k])
        it = items[int(n_items * rng.random() ** 2)]  # some items are far more common than others
        submitted = start + (i + rng.random()) * spacing
        life = lifecycle(rng, submitted, it["limit"], now)
        state, last = life.events[-1]
        case_id = first_case + i
        day = _day(submitted)
        case_no = f"{day:%Y%m%d}{i % 10 ** 8:08d}"
        paused = (_workdays(life.resubmitted_at - life.correction_at)
                  if life.resubmitted_at is not None and life.correction_at is not None else 0)
        final = state in FINAL
        cases.append((
            case_id, case_no, "".join(rng.choices(QUERY_ALPHABET, k=6)), f"bench-lifelong-{case_id:027d}", it["id"],
            it["version"], it["department"], it["hall"], uid, pid, state, form, "{}",
            correction if state == "correction_requested" else "{}", it["limit"], day.isoformat(),
            _day(life.correction_at).isoformat() if state == "correction_requested" and life.correction_at else None,
            paused, _day(submitted + (it["limit"] + paused) * 7 / 5 * DAY).isoformat(),
            _day(last).isoformat() if final else None,
            _workdays(last - submitted) - paused if final else None,
            len(life.events) + 1, _ts(submitted - rng.uniform(120, 1800)), _ts(submitted), _ts(last),
        ))
        totals[state] += 1
        if k < citizens:
            totals["bench cases"] += 1
        # Every transition told the applicant (the benchmark citizens' in full, one message per other case).
        link = f"/cases/{case_no}"
        for s, when in life.events if k < citizens else life.events[-1:]:
            read = when + rng.uniform(600, 5 * DAY)
            notes.append((uid, texts[f"state:{s}"] % case_no, OPINIONS[s], link, _ts(when),
                          _ts(read) if read < now else None))
        if state == "approved" and it["certificate_type"]:
            ctype = cat.cert_types[it["certificate_type"]]
            issued = _day(last)
            counters[(ctype["id"], issued.year)] += 1
            years = ctype["validity_years"]
            revoked = rng.random() < 0.002
            certs.append((
                f"{it['region']}{issued.year}{ctype['id']:03d}{counters[(ctype['id'], issued.year)]:06d}",
                ctype["id"], case_id, pid, holder_name, it["department"], "[]", issued.isoformat(),
                _years_on(issued, years).isoformat() if years else None,
                "revoked" if revoked else "issued", _ts(last + 30 * DAY) if revoked else None,
                "证照信息有误，已重新核发。" if revoked else "", _ts(last),
            ))
            if k < citizens:
                notes.append((uid, texts["certificate"] % ctype["name"], "", "/me/certificates", _ts(last),
                              _ts(last + DAY)))
        # To-dos of the last 90 days that are done (the job writes the live ones), and the decisions' audit rows
        # the rating rule reads.
        if life.resubmitted_at is not None and life.correction_at is not None and life.correction_at > recent:
            todos.append((pid, "correction", f"correction:{case_id}:3", texts["correction"] % it["name"], "", link,
                          None, _ts(life.correction_at + 1800), _ts(life.resubmitted_at)))
        if state in ("approved", "denied") and last > recent:
            if last < now - 31 * DAY:
                todos.append((pid, "rating", f"rate:{case_id}", texts["rating"] % it["name"], "", link,
                               (_day(last) + timedelta(days=30)).isoformat(), _ts(last + 1800), _ts(last + 31 * DAY)))
            else:
                audits.append((datetime.fromtimestamp(int(last), UTC), None,
                               "case.approve" if state == "approved" else "case.deny", "ok", "case", case_no, "", ""))
        if len(cases) >= BATCH:
            flush(conn, cases, certs, notes, todos, audits, totals)
            if (i + 1) % (10 * BATCH) == 0:
                print(f"  {i + 1:,} cases", flush=True)
    flush(conn, cases, certs, notes, todos, audits, totals)
    _insert(conn, "certificate_counter", "certificate_type, year, last",
            [(t, y, n) for (t, y), n in sorted(counters.items())])
    return dict(totals)


def flush(conn: sqlite3.Connection, cases: list[tuple[Any, ...]], certs: list[tuple[Any, ...]],
          notes: list[tuple[Any, ...]], todos: list[tuple[Any, ...]], audits: list[tuple[Any, ...]],
          totals: Counter[str]) -> None:
    totals["certificates"] += len(certs)
    totals["notifications"] += len(notes)
    totals["done to-dos"] += len(todos)
    totals["audit rows"] += len(audits)
    _insert(conn, "filing_case", CASE_COLUMNS, cases)
    _insert(conn, "certificate", CERT_COLUMNS, certs)
    _insert(conn, "notification", NOTE_COLUMNS, notes)
    _insert(conn, "todo", TODO_COLUMNS, todos)
    # Chained as the app chains them (app.audit.chain), so `python -m app audit verify` holds on the seeded file.
    head = conn.execute(chain.HEAD_SQL).fetchone()
    _insert(conn, "audit_event", AUDIT_COLUMNS,
            [(str(row[0]), *row[1:]) for row in chain.chained(head[1] if head else None, audits)])
    audits.clear()


# --- sessions and the data's shape --------------------------------------------------------------------------------

def add_sessions(db_path: Path, prefix: str, limit: int | None = None) -> list[str]:
    """A fresh session per account whose mobile starts with `prefix` (what a login inserts), in id order; their
    tokens. Earlier benchmark sessions are removed first."""
    from app.accounts.sessions import hash_token

    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM web_session WHERE user_agent = ? AND \"user\" IN (SELECT id FROM app_user"
                     " WHERE mobile LIKE ?)", (SESSION_AGENT, prefix + "%"))
        ids = [r[0] for r in conn.execute("SELECT id FROM app_user WHERE mobile LIKE ? ORDER BY id LIMIT ?",
                                          (prefix + "%", -1 if limit is None else limit))]
        now = str(datetime.now(UTC))
        tokens = [secrets.token_urlsafe(32) for _ in ids]
        conn.executemany("INSERT INTO web_session (token_hash, \"user\", created_at, last_seen_at, ip, user_agent)"
                         " VALUES (?, ?, ?, ?, '127.0.0.1', ?)",
                         [(hash_token(tok), uid, now, now, SESSION_AGENT)
                          for tok, uid in zip(tokens, ids, strict=True)])
    return tokens


def refresh_sessions(db_path: Path) -> str:
    """The benchmark's sessions as just used: a phase then measures /me without the once-a-minute `last_seen`
    write (a citizen's first page after login has none either). Returns the time written."""
    now = str(datetime.now(UTC))
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE web_session SET last_seen_at = ? WHERE user_agent = ?", (now, SESSION_AGENT))
    return now


def touched_since(db_path: Path, since: str) -> int:
    """How many benchmark sessions the server wrote `last_seen` of after `since`."""
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM web_session WHERE user_agent = ? AND last_seen_at > ?",
                            (SESSION_AGENT, since)).fetchone()[0]


def read_through(db_path: Path) -> None:
    """Read the database file once, so the OS holds it in memory as it does for a server that has been running:
    this machine reclaims idle file pages between runs, and /me's random citizens then wait for the disk (a cold
    run measured /me at 159 req/s, the same code warm at 231). No response or application cache is filled."""
    t = time.perf_counter()
    with db_path.open("rb") as f:
        while f.read(1 << 24):
            pass
    print(f"read the {db_path.stat().st_size / 1e9:.1f} GB database file once (into the OS page cache): "
          f"{time.perf_counter() - t:.1f}s", flush=True)


def data_shape(db_path: Path) -> dict[str, Any]:
    """Row counts and the benchmark citizens' share, from the file measured."""
    with sqlite3.connect(db_path) as conn:
        q = conn.execute
        out: dict[str, Any] = {t: q(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608 - our own names
                               for t in ("person", "guardian_link", "legal_entity", "app_user", "filing_case",
                                         "certificate", "notification", "todo")}
        per = [r[0] for r in q(
            "SELECT (SELECT COUNT(*) FROM filing_case c WHERE c.applicant = u.id OR c.holder_person = u.person)"
            " FROM app_user u WHERE u.mobile LIKE ?", (CITIZEN_MOBILE + "%",))]
        out["citizens"] = len(per)
        out["cases per citizen"] = (f"mean {sum(per) / max(1, len(per)):.1f}, p50 {pct(per, 50):.0f}, "
                                    f"p95 {pct(per, 95):.0f}, max {max(per, default=0)}")
        out["open to-dos"] = q("SELECT COUNT(*) FROM todo WHERE done_at IS NULL").fetchone()[0]
        out["states"] = dict(q("SELECT state, COUNT(*) FROM filing_case GROUP BY state ORDER BY 2 DESC"))
        out["MB"] = round(sum(p.stat().st_size for p in db_path.parent.glob("yiwang.sqlite3*")) / 1e6)
    return out


# --- HTTP ----------------------------------------------------------------------------------------------------------

@dataclass
class Phase:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    size: int = 0
    server_cpu: float = 0.0  # CPU seconds the server process used while the clock ran
    client_cpu: float = 0.0  # and this process, the load generator

    @property
    def rps(self) -> float:
        return len(self.times) / self.elapsed if self.elapsed else float("nan")

    def cpu_line(self) -> str:
        return busy_line(self.server_cpu, self.client_cpu, self.elapsed, len(self.times))


async def load(base: str, path: str, tokens: list[str], clients: int, seconds: float, rng: random.Random,
               phase: Phase, marker: str = "", server_pid: int | None = None) -> None:
    """`clients` keep-alive connections, each requesting `path` as a random citizen (their session cookie)
    until the time is up; a response other than 200 (or without `marker`) is an error. With `server_pid`, the
    CPU time the server and this process used meanwhile is added to the phase."""
    from litestar.middleware.csrf import generate_csrf_token

    from app.accounts.sessions import SESSION_COOKIE
    from app.web.security import CSRF_COOKIE

    # A browser sends back the CSRF cookie its first page set (without it every response sets a new one); these
    # GETs never post a form, so a token of the same shape under another secret stands in for it.
    csrf = generate_csrf_token(secret=secrets.token_urlsafe(32))
    stop_at = time.perf_counter() + seconds

    async def worker(client: LeanGet) -> None:
        while time.perf_counter() < stop_at:
            token = tokens[rng.randrange(len(tokens))]
            t = time.perf_counter()
            try:
                cookie = f"{SESSION_COOKIE}={token}; {CSRF_COOKIE}={csrf}"
                status, headers, body = await client.get(path, {"Cookie": cookie})
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                phase.errors.append(f"GET {path}: {type(exc).__name__} {exc}")
                await client.aclose()
                continue
            phase.times.append((time.perf_counter() - t) * 1000)
            phase.size += len(body)
            if status != 200 or marker.encode() not in body:
                phase.errors.append(f"GET {path}: {status} {headers.get('location', '')}")

    conns = [LeanGet(base) for _ in range(clients)]
    try:
        await asyncio.gather(*(c.get("/healthz") for c in conns))  # connections open before the clock starts
        server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
        client_cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        phase.elapsed += time.perf_counter() - started
        phase.client_cpu += time.process_time() - client_cpu
        if server_pid:
            phase.server_cpu += cpu_seconds(server_pid) - server_cpu
    finally:
        for c in conns:
            await c.aclose()


async def http_run(args: argparse.Namespace, base: str, db_path: Path, tokens: list[str],
                   warm: list[str], server_pid: int) -> tuple[dict[str, Phase], int]:
    """The measured phases; and how many session writes (`last_seen`) fell inside them."""
    rng = random.Random(args.seed + 1)
    phases = {name: Phase() for name in ("me", "baseline", "me seq", "baseline seq")}
    touched = 0
    # Warm the worker's code paths (templates, per-worker copies of the calendar and catalogue) with accounts that
    # are not measured: no measured citizen's page is requested before the clock starts.
    await load(base, "/me", warm, min(8, len(warm)), 2.0, rng, Phase())
    await load(base, "/bench/baseline", warm, min(8, len(warm)), 1.0, rng, Phase())
    half = args.seconds / 2
    seq = max(1, args.seq_seconds / 2)
    # Alternating halves: drift in the machine's load hits both pages alike.
    for path, clients, seconds, name in [("/me", args.clients, half, "me"),
                                         ("/bench/baseline", args.clients, half, "baseline")] * 2 + [
                                            ("/me", 1, seq, "me seq"), ("/bench/baseline", 1, seq, "baseline seq")] * 2:
        since = refresh_sessions(db_path)
        await load(base, path, tokens, clients, seconds, rng, phases[name], 'id="under-way"' if path == "/me" else "",
                   server_pid=server_pid)
        touched += touched_since(db_path, since)
    return phases, touched


def profile(args: argparse.Namespace, base: str, tokens: list[str], pid: int) -> None:
    """py-spy on the server while `--clients` citizens load /me (not counted in the figures above)."""
    out = Path(args.profile)
    spy = subprocess.Popen([args.py_spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",  # noqa: S603
                            "--duration", str(int(args.profile_seconds)), "--output", str(out), "--nonblocking"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    asyncio.run(load(base, "/me", tokens, args.clients, args.profile_seconds, random.Random(7), Phase()))
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not out.exists():
        print(f"py-spy failed ({spy.returncode}): {err.decode().strip()[-300:]}")
        return
    print_profile(out)


def print_profile(path: Path) -> None:
    """The collapsed stacks summarised: where the samples are, by function, inclusive and self."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split("/")[-1] if " (" in f else f
                  for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    print(f"\npy-spy profile of the server under /me load: {total} samples ({path})")
    print("  inclusive (the function and what it calls):")
    for f, n in inclusive.most_common(40):
        print(f"    {100 * n / total:5.1f}%  {f}")
    print("  self:")
    for f, n in own.most_common(20):
        print(f"    {100 * n / total:5.1f}%  {f}")


# --- where one /me goes -----------------------------------------------------------------------------------------

async def diagnose(db_path: Path, tokens: list[str], samples: int) -> None:
    """GET /me in-process (real app, no server, no network) for a few citizens: its latency, then every statement
    it runs, timed on a kept sqlite3 connection (warm page cache), with its plan."""
    import logging

    from litestar.testing import AsyncTestClient

    from app.accounts.sessions import SESSION_COOKIE
    from app.main import create_app

    rng = random.Random(3)
    chosen = rng.sample(tokens, min(samples, len(tokens)))
    per_sql: dict[str, list[float]] = {}
    rows: dict[str, list[int]] = {}
    plans: dict[str, list[str]] = {}
    request_ms: list[float] = []
    kept = sqlite3.connect(db_path, isolation_level=None)  # autocommit: never holds a lock between statements
    writes: Counter[str] = Counter()
    async with AsyncTestClient(app=create_app()) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for token in chosen:
            client.cookies.clear()

            async def one(tok: str = token) -> None:
                r = await client.get("/me", headers={"Cookie": f"{SESSION_COOKIE}={tok}"})
                assert r.status_code == 200 and 'id="under-way"' in r.text, r.status_code

            t = time.perf_counter()
            statements = await captured_statements(one)
            request_ms.append((time.perf_counter() - t) * 1000)
            for sql, params in statements:
                key = " ".join(sql.split())
                if not key.upper().startswith(("SELECT", "WITH")):
                    writes[key[:100]] += 1  # a write the request made (a session's last_seen): counted, not re-run
                    continue
                kept.execute(sql, params).fetchall()
                t = time.perf_counter()
                for _ in range(3):
                    got = kept.execute(sql, params).fetchall()
                per_sql.setdefault(key, []).append((time.perf_counter() - t) * 1000 / 3)
                rows.setdefault(key, []).append(len(got))
                plans.setdefault(key, [r[3] for r in kept.execute("EXPLAIN QUERY PLAN " + sql, params)])
    kept.close()
    n = len(chosen)
    print(f"\nGET /me in-process ({n} citizens, first request each, capture included): {summary(request_ms)}")
    print(f"  {sum(len(v) for v in per_sql.values()) / n:.1f} statements per page; each timed on a kept sqlite3 "
          "connection (mean ms, mean rows), heaviest first:")
    sql_total = 0.0
    for key, times in sorted(per_sql.items(), key=lambda kv: -sum(kv[1]) / n):
        ms = sum(times) / n
        sql_total += ms
        print(f"  {ms:6.2f} ms x{len(times) / n:.1f} rows {sum(rows[key]) / len(rows[key]):6.1f}  {key[:150]}")
        for step in plans[key]:
            print(f"           plan: {step}")
    for key, count in writes.items():
        print(f"  write x{count / n:.1f}: {key}")
    print(f"  SQL alone: {sql_total:.2f} ms per page; the request's p50 {pct(request_ms, 50):.2f} ms")


# --- the run -------------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace, var_dir: Path) -> list[Row]:
    db_path = var_dir / "yiwang.sqlite3"
    t = time.perf_counter()
    shape = data_shape(db_path)
    print(f"data ({time.perf_counter() - t:.1f}s to count): {shape}", flush=True)
    tokens = add_sessions(db_path, CITIZEN_MOBILE)
    warm = add_sessions(db_path, OTHER_MOBILE, limit=64)
    print(f"{len(tokens):,} sessions inserted for the benchmark citizens (+{len(warm)} warm-up accounts)", flush=True)
    read_through(db_path)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"\nHTTP: python -m app serve --workers 1 on {base} (one worker process; YIWANG_BENCH_BASELINE=1, "
          f"YIWANG_JOBS_INTERVAL_MINUTES=0)", flush=True)
    proc = start_server(var_dir, port)
    try:
        load_before = os.getloadavg()
        phases, touched = asyncio.run(http_run(args, base, db_path, tokens, warm, proc.pid))
        load_after = os.getloadavg()
        if args.profile:
            refresh_sessions(db_path)
            profile(args, base, tokens, proc.pid)
    finally:
        stop_server(proc)
    print(f"  server stopped (exit {proc.returncode})")
    me, bl, me_s, bl_s = phases["me"], phases["baseline"], phases["me seq"], phases["baseline seq"]
    ratio = me.rps / bl.rps
    print(f"\n{args.clients} clients, {args.seconds:.0f}s per page in alternating halves; load average "
          f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after "
          f"({os.cpu_count()} CPUs)")
    for label, p in (("/me", me), ("/bench/baseline", bl), ("/me seq", me_s), ("/bench/baseline seq", bl_s)):
        print(f"  {label:20s} {summary(p.times)}  {p.rps:7.1f} req/s  {p.size / max(1, len(p.times)) / 1000:5.1f} KB"
              f"  errors {len(p.errors)}")
        print(f"  {'':20s} {p.cpu_line()}")
        for e in Counter(p.errors).most_common(3):
            print(f"    error x{e[1]}: {e[0]}")
    print(f"  /me throughput / baseline throughput: {ratio:.2f} ({me.rps:.1f} / {bl.rps:.1f} req/s); sequential "
          f"{me_s.rps / bl_s.rps:.2f}; session writes (last_seen) during the phases: {touched}")
    cpu_ratio = (bl.server_cpu / max(1, len(bl.times))) / max(1e-9, me.server_cpu / max(1, len(me.times)))
    print(f"  server CPU per request, baseline / /me, {args.clients} clients: {cpu_ratio:.2f} (the throughput ratio "
          "one saturated server core would give)")
    distinct = "all" if len(me.times) >= len(tokens) else "at most"
    print(f"  /me requests {len(me.times):,} over {len(tokens):,} citizens ({distinct} chosen at random per request)")

    if args.diagnose:
        refresh_sessions(db_path)
        asyncio.run(diagnose(db_path, tokens, args.diagnose))

    return [
        (f"/me p95, {args.clients} clients", f"< {TARGET_P95_MS:.0f} ms",
         f"{pct(me.times, 95):.1f} ms (p50 {pct(me.times, 50):.1f}, p99 {pct(me.times, 99):.1f})",
         pct(me.times, 95) < TARGET_P95_MS and not me.errors,
         f"p95 {pct(me.times, 95) / pct(bl.times, 95):.1f}x its {pct(bl.times, 95):.1f} ms"),
        (f"/me throughput / baseline, {args.clients} clients", f">= {TARGET_RATIO:.0%}",
         f"{ratio:.0%} ({me.rps:.0f} vs {bl.rps:.0f} req/s)", ratio >= TARGET_RATIO and not me.errors,
         f"{ratio:.0%} of its req/s; server CPU/request {cpu_ratio:.0%} of /me's"),
        ("/me errors", "0", str(len(me.errors)), not me.errors),
        (f"baseline p95, {args.clients} clients", "—",
         f"{pct(bl.times, 95):.1f} ms (p50 {pct(bl.times, 50):.1f}, p99 {pct(bl.times, 99):.1f})", None),
        ("/me sequential p50", "—", f"{pct(me_s.times, 50):.1f} ms (p95 {pct(me_s.times, 95):.1f}, "
         f"{me_s.rps:.0f} req/s)", None),
        ("baseline sequential p50", "—", f"{pct(bl_s.times, 50):.1f} ms (p95 {pct(bl_s.times, 95):.1f}, "
         f"{bl_s.rps:.0f} req/s)", None),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lifelong", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per page, concurrent (default 20)")
    parser.add_argument("--seq-seconds", type=float, default=6.0, help="seconds per page, sequential (default 6)")
    parser.add_argument("--persons", type=int, default=PERSONS, help="registry persons (1,000,000)")
    parser.add_argument("--entities", type=int, default=ENTITIES, help="registry enterprises (20,000)")
    parser.add_argument("--users", type=int, default=USERS, help="activated accounts in all (250,000)")
    parser.add_argument("--citizens", type=int, default=CITIZENS, help="of which measured (10,000)")
    parser.add_argument("--cases", type=int, default=CASES, help="cases (5,000,000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--diagnose", type=int, default=20, metavar="N",
                        help="time the SQL of /me for N citizens in-process (default 20; 0: skip)")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the server under /me load into FILE (raw stacks)")
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy", help="the py-spy executable")
    parser.add_argument("--fresh", action="store_true", help="seed again even if the cache has the file")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--reuse", metavar="DIR", help="measure a folder kept by an earlier --keep run")
    args = parser.parse_args(argv)
    os.environ["YIWANG_JOBS_INTERVAL_MINUTES"] = "0"  # no reminder job in the server while it is measured
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
