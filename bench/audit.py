"""The audit log's cost, in-process: what a row adds to its write transaction, and how fast the chain verifies.

    python -m bench.audit [--transactions 3000] [--verify-rows 200000] [--database-url postgresql://…]

A fresh data folder under /tmp (SQLite unless --database-url names an empty PostgreSQL database): migrate, then
rounds of write transactions with no audit row, one and three (`record` as the services call it), interleaved so
that the machine's other load falls on all three alike; each kind's median wall time and mean CPU time of the
process (which leaves out waiting for the disk at commit). A row's cost is the difference to the empty
transaction. Then --verify-rows rows are appended in transactions of 1,000 and `audit verify`'s walk is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import time
from collections.abc import Sequence

from bench.search import fresh_var_dir, print_table

ROUNDS = 10


async def _transactions(rows: int, count: int) -> tuple[list[float], float]:
    from app.audit.services import record
    from app.db import write_tx

    walls = []
    cpu = time.process_time()
    for i in range(count):
        started = time.perf_counter()
        async with write_tx():
            for _ in range(rows):
                await record("case.submit", actor_id=i, subject_type="case", subject_key=f"202612070{i:07d}",
                             ip="127.0.0.1", item="440402-GA-006")
        walls.append(time.perf_counter() - started)
    return walls, time.process_time() - cpu


async def measure(transactions: int, verify_rows: int) -> list[tuple[str, str, str, bool | None]]:
    from app.audit.chain import verify
    from app.audit.services import record
    from app.db import close_pool, start_pool, write_tx

    await start_pool()
    try:
        walls: dict[int, list[float]] = {0: [], 1: [], 3: []}
        cpus = dict.fromkeys(walls, 0.0)
        per_round = max(transactions // ROUNDS, 1)
        for _ in range(ROUNDS):
            for rows in walls:
                wall, cpu = await _transactions(rows, per_round)
                walls[rows] += wall
                cpus[rows] += cpu
        us = {rows: (statistics.median(walls[rows]) * 1e6, cpus[rows] / len(walls[rows]) * 1e6) for rows in walls}
        table: list[tuple[str, str, str, bool | None]] = [
            (f"write transaction, {rows} audit row(s)", "", f"wall {wall:.0f} µs, CPU {cpu:.0f} µs", None)
            for rows, (wall, cpu) in us.items()]
        for rows in (1, 3):
            wall, cpu = ((us[rows][k] - us[0][k]) / rows for k in (0, 1))
            table.append((f"per row, {rows} in a transaction", "", f"wall {wall:.0f} µs, CPU {cpu:.0f} µs", None))
        done = 0
        while done < verify_rows:
            async with write_tx(bulk=True):
                for i in range(min(1000, verify_rows - done)):
                    await record("bench.fill", actor_id=i, subject_type="case", subject_key=f"2026{i:08d}",
                                 ip="127.0.0.1", n=i)
            done = min(done + 1000, verify_rows)
        started = time.perf_counter()
        verdict = await verify()
        took = time.perf_counter() - started
        table.append((f"audit verify, {verdict.rows:,} rows", "OK",
                      f"{'OK' if verdict.ok else 'BROKEN'} in {took:.1f} s ({verdict.rows / took:,.0f} rows/s)",
                      verdict.ok))
        return table
    finally:
        await close_pool()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=3000, help="of each kind (default 3000)")
    parser.add_argument("--verify-rows", type=int, default=200_000)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    var_dir = fresh_var_dir()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("YIWANG_DB_POOL_SIZE", "4")
    try:
        from app.__main__ import migrate

        asyncio.run(migrate())
        print_table(asyncio.run(measure(args.transactions, args.verify_rows)))
    finally:
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
