"""The audit log as a hash chain: each row's `row_hash` is SHA-256 over the previous row's hash and the row's own
content, and the row keeps that previous hash in `prev_hash`. Changing, deleting or inserting a row breaks the
chain at that row or the next; `python -m app audit verify` walks it in id order.

Rows are appended when their write transaction commits (`record` queues them on it): on PostgreSQL the
transaction then takes a transaction-scoped advisory lock before it reads the chain's head, so two transactions
never chain to the same predecessor, and holds it only for that insert and its commit; on SQLite a write
transaction already holds the database's write lock. A transaction rolled back wrote nothing, so it leaves no gap.
The row id is not part of the hash: ids may have gaps (PostgreSQL sequences), and the chain's order is id order.

Tamper evidence, not tamper proof: whoever can write the database can also recompute every hash after the row
they changed. The head (id and hash, printed by `audit verify` and written into every backup's manifest) is what
to keep elsewhere; a chain that no longer reaches a head noted earlier has been rewritten."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from app.db import engine, executemany, hold, read_one

GENESIS = bytes(32)  # the previous hash of the first row
CONTENT = ("created_at", "actor_id", "action", "outcome", "subject_type", "subject_key", "ip", "detail")
HEAD_SQL = "SELECT id, row_hash FROM audit_event ORDER BY id DESC LIMIT 1"  # the chain's last row
INSERT_SQL = (f"INSERT INTO audit_event ({', '.join(CONTENT)}, prev_hash, row_hash) "  # noqa: S608 - our columns
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
PG_INSERT_SQL = INSERT_SQL.replace("?", "${}").format(*range(1, 11))
PAGE = 5000  # rows read at a time when walking the chain

_json = json.JSONEncoder(separators=(",", ":")).encode  # made once: json.dumps with options makes one a call
Row = tuple[datetime, int | None, str, str, str, str, str, str]  # the CONTENT columns, in that order


def row_hash(prev: bytes, row: Sequence[Any]) -> bytes:
    """SHA-256 over the previous hash and the row's content (the CONTENT columns, in order), as a JSON array:
    the time in UTC to the microsecond (what both engines store), the other values as written."""
    created_at, *rest = row
    moment = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(prev + _json([moment, *rest]).encode()).digest()


def chained(head: bytes | None, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """The rows with their prev_hash and row_hash, chained after `head` (None: the chain is empty)."""
    prev = GENESIS if head is None else head
    out = []
    for row in rows:
        digest = row_hash(prev, row)
        out.append((*row, prev, digest))
        prev = digest
    return out


def _open_write() -> Any:
    transaction = engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("the audit chain is written inside a write_tx()")
    return transaction


async def lock_head() -> bytes | None:
    """On the open write transaction: the chain's last hash (None when empty), with the chain held until the
    transaction ends (app.db.hold). Held first, read in a statement of its own: on PostgreSQL that statement sees
    whatever the hold's last holder committed."""
    _open_write()
    await hold("audit_event.chain")
    found = await read_one(HEAD_SQL)
    return found["row_hash"] if found else None


async def append(rows: list[Row]) -> None:
    """Chain and insert audit rows, in order, on the open write transaction just before it commits."""
    sealed = chained(await lock_head(), rows)
    connection = _open_write().connection
    if isinstance(engine(), SQLiteEngine):
        await connection.executemany(INSERT_SQL, sealed)
    else:  # a transaction's one or few rows: asyncpg's executemany costs more than a statement each
        for row in sealed:
            await connection.execute(PG_INSERT_SQL, *row)


@dataclass(frozen=True)
class Verdict:
    rows: int  # rows that verified
    head_id: int | None  # the last of them
    head_hash: bytes | None
    broken_id: int | None = None  # the first row that does not
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


async def _pages(columns: str, after: int = 0) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row in id order, a page at a time (keyset pagination on the primary key: constant memory)."""
    from app.audit.tables import AuditEvent

    while True:
        rows = await AuditEvent.raw(
            f"SELECT id, {columns} FROM audit_event WHERE id > {{}} ORDER BY id LIMIT {{}}",  # noqa: S608 - ours
            after, PAGE)
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


async def verify() -> Verdict:
    """Walk the chain in id order; the first row whose link or content does not hold, and why."""
    count, head_id, prev = 0, None, GENESIS
    async for page in _pages(f"{', '.join(CONTENT)}, prev_hash, row_hash"):
        for row in page:
            problem = ""
            if row["row_hash"] is None:
                problem = "it has no row_hash: it was written outside the chain"
            elif row["prev_hash"] != prev:
                before = f"the row before it (id {head_id})" if head_id is not None else "the chain's start"
                problem = (f"its prev_hash {_hex(row['prev_hash'])} is not the hash of {before}, {_hex(prev)}: "
                           "a row was deleted, inserted or moved there")
            else:
                computed = row_hash(prev, [row[c] for c in CONTENT])
                if computed != row["row_hash"]:
                    problem = (f"its content hashes to {_hex(computed)}, not its row_hash {_hex(row['row_hash'])}: "
                               f"a column ({', '.join(CONTENT)}) or the hash was changed")
            if problem:
                return Verdict(count, head_id, prev if head_id is not None else None, row["id"], problem)
            count, head_id, prev = count + 1, row["id"], row["row_hash"]
    return Verdict(count, head_id, prev if head_id is not None else None)


async def head() -> tuple[int, bytes] | None:
    """The chain's last row: id and hash."""
    found = await read_one(HEAD_SQL)
    return (found["id"], found["row_hash"]) if found else None


async def seal_all() -> int:
    """Chain every row again in id order from the first, trusting their content as it stands; inside the open
    transaction. For rows written before the chain existed (the migration that added it); never for repairing a
    broken chain, which would hide what broke it. Returns the number of rows sealed."""
    await lock_head()
    sealed, prev = 0, GENESIS
    async for page in _pages(", ".join(CONTENT)):
        updates = []
        for row in page:
            digest = row_hash(prev, [row[c] for c in CONTENT])
            updates.append((prev, digest, row["id"]))
            prev = digest
        await executemany("UPDATE audit_event SET prev_hash = ?, row_hash = ? WHERE id = ?", updates)
        sealed += len(updates)
    return sealed


def _hex(value: bytes | None) -> str:
    return value.hex()[:16] + "…" if value else "(none)"
