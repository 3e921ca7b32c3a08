"""The database engine (SQLite embedded, PostgreSQL at scale) and the one way to open a write transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from app.settings import get_settings


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        # 30 s busy timeout: writers queue behind BEGIN IMMEDIATE instead of failing with "database is locked".
        return SQLiteEngine(path=path, timeout=30)
    if database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": database_url})
    raise ValueError(f"unsupported DATABASE_URL scheme: {database_url.split(':', 1)[0]}")


def engine() -> Engine:
    from app.piccolo_conf import DB

    return DB


def write_tx() -> Any:
    """A write transaction: `BEGIN IMMEDIATE` on SQLite so concurrent writers queue instead of deadlocking."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def utcnow() -> datetime:
    return datetime.now(UTC)


def prepare_sqlite_file() -> None:
    """WAL lets readers run beside the one writer; the mode is stored in the file, so once suffices."""
    settings = get_settings()
    if not settings.is_sqlite:
        return
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.sqlite_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


async def start_pool() -> None:
    """A PostgreSQL connection pool per worker (size 0: a connection per query, as the tests use)."""
    db, size = engine(), get_settings().db_pool_size
    if isinstance(db, PostgresEngine) and size > 0:
        await db.start_connection_pool(min_size=1, max_size=size)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and get_settings().db_pool_size > 0:
        await db.close_connection_pool()


async def executemany(sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run one statement for many rows on the open write transaction's connection.

    For bulk writes (the search index) the ORM's per-row objects cost far more than the database does.
    `sql` uses `?` placeholders; they become `$1, $2 …` on PostgreSQL."""
    if not rows:
        return
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("executemany needs an open write_tx()")
    if isinstance(db, SQLiteEngine):
        await transaction.connection.executemany(sql, rows)
        return
    parts = sql.split("?")
    numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    await transaction.connection.executemany(numbered, rows)
