"""Bundle benchmark: concurrent five-member bundle submissions beside single-item submissions, from the same run.

    python -m bench.bundles [--bundles 100] [--clients 32] [--seconds 20] [--keep]

The folder and the data of bench.filing (migrate, departments, the demo catalogue, ~100,000 submitted cases), with
`--bundles` citizens whose library holds every material type the bundle's members name (免提交, no upload), and
one bundle `BENCH-FIVE` inserted as a row: five person items of five departments, none waiting for another, so
each filing creates the parent and five submitted children in one transaction. Then `python -m app serve
--workers 1`: first single-item submissions exactly as bench.filing measures them, then `--bundles` clients at
once, each GET /bundles/BENCH-FIVE (the hidden `key`) and POST it with action=submit. Afterwards the database must
hold exactly one parent per 303 with five submitted children each, nothing else, no orphan and no repeated key.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.filing import ITEM_CODE, KEY_RE, PASSWORD, Row, db_counts, form_values, login_all, migrate, seed, submissions
from bench.search import free_port, fresh_var_dir, pct, print_table, start_server, stop_server, summary

BUNDLE_CODE = "BENCH-FIVE"
# Five person items of five departments, none issuing what another needs: every member starts at once.
MEMBERS = (
    "440402-GA-006",  # 无犯罪记录证明开具, district police
    "440400-GJJ-004",  # 住房公积金异地转移接续, housing fund centre
    "440402-RSJ-001",  # 失业登记, district human resources and social security
    "440400-YBJ-003",  # 门诊特定病种待遇认定, medical insurance bureau
    "440000-SW-001",  # 个人所得税综合所得年度汇算, provincial tax bureau
)
ANSWERS = {"agent": "self", "history": "yes"}  # 本人办理; 曾就业 (adds the termination proof, from the library)
BUNDLES = 100
LOCATION_RE = re.compile(r"^/bundle-cases/(B\d{19})$")


# --- setup -------------------------------------------------------------------------------------------------------

async def add_bundle() -> tuple[list[dict[str, Any]], int]:
    """The bench bundle as a row; its merged form (each key once) and the case materials one filing attaches."""
    from app.bundles.tables import Bundle
    from app.catalog.services import load_file, material_list
    from app.db import utcnow
    from app.demo import DEMO_CATALOGUE

    docs = {i["code"]: i for i in load_file(str(DEMO_CATALOGUE))["items"]}
    for code in MEMBERS:
        assert "person" in docs[code]["audience"], code
    await Bundle.insert(Bundle(
        code=BUNDLE_CODE, name="基准测试五件事", audience="person", summary="五个部门的事项一表申请、同时办理。",
        members=[{"item": code, "after": [], "fee": 0, "registers": None} for code in MEMBERS],
        on_failure="continue", delivery=True, updated_at=utcnow()))
    merged: dict[str, dict[str, Any]] = {}
    for code in MEMBERS:
        for fld in docs[code]["form"]:
            merged.setdefault(fld["key"], fld)
    materials = sum(len(material_list(docs[code], ANSWERS)) for code in MEMBERS)
    return list(merged.values()), materials


def bundle_form(schema: list[dict[str, Any]], citizen: dict[str, Any]) -> dict[str, str]:
    values = form_values(schema, citizen)
    values.update({f"situation_{k}": v for k, v in ANSWERS.items()})
    return {**values, "action": "submit", "delivery": "window", "delivery_address": ""}


def bundle_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        q = conn.execute
        return {
            "cases": q("SELECT COUNT(*) FROM filing_case").fetchone()[0],
            "parents": q("SELECT COUNT(*) FROM bundle_case").fetchone()[0],
            "case_materials": q("SELECT COUNT(*) FROM case_material").fetchone()[0],
        }


def bundle_check(db_path: Path, created: dict[str, int], n_members: int, n_materials: int,
                 before: dict[str, int]) -> tuple[bool, list[str]]:
    """Whether the database holds exactly what the 303s say, and a line per figure checked.

    `created`: bundle number → the applicant's user id, from the redirects."""
    with sqlite3.connect(db_path) as conn:
        q = conn.execute
        parents = {no: (applicant, state) for no, applicant, state in
                   q("SELECT bundle_no, applicant, state FROM bundle_case")}
        per_parent = q(
            "SELECT bc.bundle_no, COUNT(fc.id), COUNT(DISTINCT fc.item), SUM(fc.state = 'submitted'),"
            " SUM(fc.applicant = bc.applicant AND fc.holder_person = bc.holder_person),"
            " SUM(fc.clock_started_on IS NOT NULL), (SELECT COUNT(*) FROM case_material cm JOIN filing_case c"
            " ON c.id = cm.\"case\" WHERE c.bundle_case = bc.id) FROM bundle_case bc LEFT JOIN filing_case fc"
            " ON fc.bundle_case = bc.id GROUP BY bc.id").fetchall()
        orphans = q("SELECT COUNT(*) FROM filing_case WHERE bundle_case IS NOT NULL AND bundle_case NOT IN"
                    " (SELECT id FROM bundle_case)").fetchone()[0]
        not_submitted = q("SELECT state, COUNT(*) FROM filing_case WHERE bundle_case IS NOT NULL AND state !="
                          " 'submitted' GROUP BY state").fetchall()
        dup_case_keys = q("SELECT COUNT(*) FROM (SELECT idempotency_key FROM filing_case GROUP BY idempotency_key"
                          " HAVING COUNT(*) > 1)").fetchone()[0]
        dup_parent_keys = q("SELECT COUNT(*) FROM (SELECT idempotency_key FROM bundle_case GROUP BY"
                            " idempotency_key HAVING COUNT(*) > 1)").fetchone()[0]
        audits = q("SELECT COUNT(*) FROM audit_event WHERE action = 'bundle.submit'").fetchone()[0]
    after = bundle_counts(db_path)
    n = len(created)
    want = (n_members, n_members, n_members, n_members, n_members, n_materials)
    bad_parents = [row[0] for row in per_parent if tuple(row[1:]) != want]
    wrong_owner = [no for no, user in created.items() if parents.get(no, (None,))[0] != user]
    states = sorted({state for _applicant, state in parents.values()})
    checks = [
        (f"parents: {len(parents)} (+{after['parents'] - before['parents']}) for {n} redirects, the same numbers",
         set(parents) == set(created) and after["parents"] - before["parents"] == n),
        (f"each parent: {n_members} children of {n_members} items, all submitted with the clock started, the "
         f"applicant's, {n_materials} case materials; parents off that: {len(bad_parents)} {bad_parents[:3]}",
         not bad_parents),
        (f"each redirect's parent belongs to the citizen who posted: {n - len(wrong_owner)}/{n}", not wrong_owner),
        (f"cases grew by {after['cases'] - before['cases']} (want {n_members * n}), case materials by "
         f"{after['case_materials'] - before['case_materials']} (want {n_materials * n})",
         after["cases"] - before["cases"] == n_members * n
         and after["case_materials"] - before["case_materials"] == n_materials * n),
        (f"orphan children {orphans}; children not submitted {dict(not_submitted)}", not orphans
         and not not_submitted),
        (f"repeated idempotency keys: cases {dup_case_keys}, parents {dup_parent_keys}",
         not dup_case_keys and not dup_parent_keys),
        (f"audit records bundle.submit {audits} (want {n}); parent states {states}", audits == n),
    ]
    return all(ok for _line, ok in checks), [f"{'ok ' if ok else 'BAD'} {line}" for line, ok in checks]


# --- HTTP ----------------------------------------------------------------------------------------------------

async def bundle_submissions(clients: list[httpx.AsyncClient], forms: list[dict[str, str]],
                             rounds: int) -> dict[str, Any]:
    """Every client at once: GET the form (its key), POST it; `rounds` times each, one after another."""
    get_ms: list[float] = []
    post_ms: list[float] = []
    trip_ms: list[float] = []
    errors: list[str] = []
    created: dict[str, int] = {}  # bundle number → index of the client that got it
    post_window = [float("inf"), 0.0]

    async def worker(i: int) -> None:
        client = clients[i]
        for _round in range(rounds):
            t0 = time.perf_counter()
            try:
                r = await client.get(f"/bundles/{BUNDLE_CODE}")
                t1 = time.perf_counter()
                get_ms.append((t1 - t0) * 1000)
                m = KEY_RE.search(r.text)
                if r.status_code != 200 or m is None:
                    errors.append(f"GET bundle {r.status_code}: {r.text[:200]!r}")
                    continue
                data = {**forms[i], "key": m.group(1), "_csrf_token": client.cookies.get("yw_csrf", "")}
                t1 = time.perf_counter()
                post_window[0] = min(post_window[0], t1)
                r = await client.post(f"/bundles/{BUNDLE_CODE}", data=data)
                t2 = time.perf_counter()
                post_window[1] = max(post_window[1], t2)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            found = LOCATION_RE.match(r.headers.get("location", ""))
            if r.status_code != 303 or found is None:
                problems = re.findall(r'class="(?:field|form)-error"[^>]*>([^<]+)<', r.text)
                errors.append(f"POST {r.status_code} {r.headers.get('location', '')}: {problems or r.text[:300]!r}")
                continue
            post_ms.append((t2 - t1) * 1000)
            trip_ms.append((t2 - t0) * 1000)
            created[found.group(1)] = i

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(len(clients))))
    elapsed = time.perf_counter() - started
    return {"get_ms": get_ms, "post_ms": post_ms, "trip_ms": trip_ms, "errors": errors, "created": created,
            "elapsed": elapsed, "post_window": max(post_window[1] - post_window[0], 1e-9)}


async def single_items(clients: list[httpx.AsyncClient], citizens: list[dict[str, Any]], seconds: float,
                       db_path: Path) -> dict[str, Any]:
    """bench.filing's submission phase: the same loop, the same checks."""
    before = db_counts(db_path)
    sub = await submissions(clients, citizens, seconds)
    n_ok = len(sub["post_ms"])
    after = db_counts(db_path)
    grew = after["submitted"] - before["submitted"]
    sub.update(n_ok=n_ok, rps=n_ok / sub["elapsed"], grew=grew, after=after,
               consistent=grew == n_ok and after["dup_keys"] == 0 and after["drafts"] == 0)
    print(f"\nsingle item {ITEM_CODE}: {len(clients)} clients for {sub['elapsed']:.1f}s: {n_ok} submitted (303), "
          f"{len(sub['errors'])} errors, {sub['rps']:.1f} cases/s (one GET apply + one POST each)")
    print(f"  GET  apply       {summary(sub['get_ms'])}")
    print(f"  POST submit      {summary(sub['post_ms'])}")
    print(f"  apply+submit     {summary(sub['trip_ms'])}")
    for e in sub["errors"][:5]:
        print(f"  error: {e}")
    print(f"  submitted grew by {grew} (303s: {n_ok}); drafts left {after['drafts']}; duplicate keys "
          f"{after['dup_keys']}", flush=True)
    return sub


# --- the run -------------------------------------------------------------------------------------------------

async def run(args: argparse.Namespace, var_dir: Path) -> list[Row]:
    print(f"data folder: {var_dir}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    import app.main  # noqa: F401 - load the whole app before others' edits land mid-run

    n_citizens = max(args.bundles, args.clients)
    citizens = await seed(var_dir, args.cases, n_citizens=n_citizens, library_items=(ITEM_CODE, *MEMBERS))
    schema, n_materials = await add_bundle()
    forms = [bundle_form(schema, c) for c in citizens[:args.bundles]]
    print(f"bundle {BUNDLE_CODE}: {', '.join(MEMBERS)}; merged form of {len(schema)} fields, "
          f"{n_materials} case materials a filing (from the library)")
    db_path = var_dir / "yiwang.sqlite3"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"\nHTTP: python -m app serve --workers 1 on {base}", flush=True)
    proc = start_server(var_dir, port)
    clients: list[httpx.AsyncClient] = []
    try:
        t = time.perf_counter()
        clients = await login_all(base, citizens, n_citizens)
        print(f"logged in {len(clients)} citizens: {time.perf_counter() - t:.1f}s", flush=True)
        single = await single_items(clients[:args.clients], citizens[:args.clients], args.seconds, db_path)
        # New connections for the bundle phase: uvicorn closes a connection idle for 5 s.
        for c in clients:
            await c.aclose()
        clients = [httpx.AsyncClient(base_url=base, timeout=120, cookies=c.cookies) for c in clients[:args.bundles]]
        before = bundle_counts(db_path)
        bun = await bundle_submissions(clients, forms, args.rounds)
    finally:
        for c in clients:
            await c.aclose()
        stop_server(proc)
    print(f"  server stopped (exit {proc.returncode})")

    n_ok = len(bun["created"])
    rate = n_ok / bun["elapsed"]
    print(f"\nbundles: {len(clients)} clients at once x {args.rounds}: {n_ok} filed (303) in {bun['elapsed']:.2f}s, "
          f"{len(bun['errors'])} errors, {rate:.1f} bundles/s = {rate * len(MEMBERS):.1f} cases/s (one GET + one "
          f"POST each); POSTs alone {n_ok / bun['post_window']:.1f} bundles/s")
    print(f"  GET  bundle      {summary(bun['get_ms'])}")
    print(f"  POST submit      {summary(bun['post_ms'])}")
    print(f"  GET+POST         {summary(bun['trip_ms'])}")
    for e in bun["errors"][:5]:
        print(f"  error: {e}")
    owners = {no: citizens[i]["user_id"] for no, i in bun["created"].items()}
    atomic, lines = bundle_check(db_path, owners, len(MEMBERS), n_materials, before)
    print("database after the bundles:")
    for line in lines:
        print(f"  {line}")

    s_rate = single["rps"]
    return [
        (f"single-item submissions/s, {args.clients} clients, {args.seconds:.0f}s", "—",
         f"{s_rate:.1f}/s ({single['n_ok']} cases)", None),
        ("single-item errors", "0", str(len(single["errors"])), not single["errors"]),
        ("single-item DB: +submitted == 303s, no drafts, no dup keys", "exact",
         f"+{single['grew']} vs {single['n_ok']}, drafts {single['after']['drafts']}, "
         f"dups {single['after']['dup_keys']}", single["consistent"]),
        (f"bundle submissions/s, {len(clients)} at once x {args.rounds}", "—", f"{rate:.1f}/s ({n_ok} bundles)",
         None),
        (f"bundle children/s ({len(MEMBERS)} cases each)", "—", f"{rate * len(MEMBERS):.1f}/s", None),
        ("bundle / single-item", "—", f"{rate / s_rate:.2f}x submissions, {rate * len(MEMBERS) / s_rate:.2f}x cases",
         None),
        ("bundle errors (anything but 303)", "0", str(len(bun["errors"])), not bun["errors"]),
        (f"DB: one parent per 303, {len(MEMBERS)} submitted children each, no orphan, no dup key", "exact",
         "consistent" if atomic else "see above", atomic),
        ("bundle POST p50 / p95", "—", f"{pct(bun['post_ms'], 50):.0f} / {pct(bun['post_ms'], 95):.0f} ms", None),
        ("bundle GET+POST p50 / p95", "—", f"{pct(bun['trip_ms'], 50):.0f} / {pct(bun['trip_ms'], 95):.0f} ms",
         None),
        ("single-item POST p50 / p95", "—",
         f"{pct(single['post_ms'], 50):.0f} / {pct(single['post_ms'], 95):.0f} ms", None),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bundles", description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=BUNDLES, help="concurrent bundle filers (default 100)")
    parser.add_argument("--rounds", type=int, default=1, help="bundles each of them files in turn (default 1)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent single-item filers (default 32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="single-item phase length (default 20)")
    parser.add_argument("--cases", type=int, default=100_000, help="existing cases to seed (100,000)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    args.bundles, args.clients, args.rounds = max(1, args.bundles), max(1, args.clients), max(1, args.rounds)
    var_dir = fresh_var_dir()
    try:
        migrate()
        print_table(asyncio.run(run(args, var_dir)))
    finally:
        if args.keep:
            print(f"kept {var_dir} (citizens 137000000NN, password {PASSWORD})")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
