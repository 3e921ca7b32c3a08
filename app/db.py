"""The database engine (SQLite embedded, PostgreSQL at scale) and the one way to open a write transaction."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import string
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite
from piccolo.columns.base import Column
from piccolo.columns.column_types import ForeignKey, LazyTableReference
from piccolo.engine import sqlite as piccolo_sqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from app.settings import get_settings


def _fk_getattribute(self: ForeignKey, name: str) -> Any:
    """Piccolo 1.38's ForeignKey.__getattribute__ with its two tests in the cheap order.

    The original calls dir(self) on every public attribute access before the cheap test of whether the
    reference is still an unresolved lazy one; with our tables' many foreign keys that was 12% of a busy
    server's time (every select lists every column). The rest is the original, line for line."""
    if not name.startswith("_"):
        try:
            meta = object.__getattribute__(self, "_foreign_key_meta")
        except AttributeError:
            pass
        else:
            if (meta.proxy_columns == [] and isinstance(meta.references, LazyTableReference)
                    and name not in dir(self)):
                object.__getattribute__(self, "set_proxy_columns")()
    value = object.__getattribute__(self, name)
    if name.startswith("_"):
        return value
    if isinstance(value, object.__getattribute__(self, "__class__")):
        new_column = value.copy()
        new_column._meta.call_chain.append(self)
        if len(new_column._meta.call_chain) >= 10:
            raise Exception("Call chain too long!")
        foreign_key_meta = object.__getattribute__(new_column, "_foreign_key_meta")
        for proxy_column in foreign_key_meta.proxy_columns:
            with contextlib.suppress(Exception):
                delattr(new_column, proxy_column._meta.name)
        foreign_key_meta.proxy_columns = []
        for column in value._foreign_key_meta.resolved_references._meta.columns:
            _column = column.copy()
            _column._meta.call_chain = list(new_column._meta.call_chain)
            setattr(new_column, _column._meta.name, _column)
            foreign_key_meta.proxy_columns.append(_column)
        return new_column
    if issubclass(type(value), Column):
        new_column = value.copy()
        new_column._meta.call_chain = object.__getattribute__(self, "_meta").call_chain.copy()
        new_column._meta.call_chain.append(self)
        return new_column
    return value


ForeignKey.__getattribute__ = _fk_getattribute  # type: ignore[method-assign]


# Piccolo registers a converter per declared column type for every SQLite value read, process-wide. Its INTEGER
# converter goes through Decimal (for values such as b"1.0") and each converter through a str/bytes wrapper: on a
# page of 50 rows that was a fifth of the request. These give the same values, taking the cheap path first.
def _int_out(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:
        return piccolo_sqlite.convert_int_out(value)  # "1.0" and other spellings Decimal reads


def _date_out(value: bytes) -> date:
    return date.fromisoformat(value.decode())


def _timestamp_out(value: bytes) -> datetime:
    return datetime.fromisoformat(value.decode())


def _timestamptz_out(value: bytes) -> datetime:
    moment = datetime.fromisoformat(value.decode())
    return moment if moment.tzinfo is UTC else moment.replace(tzinfo=UTC)


def _boolean_out(value: bytes) -> bool:
    return value == b"1"


for _type, _converter in (("INTEGER", _int_out), ("DATE", _date_out), ("TIMESTAMP", _timestamp_out),
                          ("TIMESTAMPTZ", _timestamptz_out), ("BOOLEAN", _boolean_out)):
    sqlite3.register_converter(_type, _converter)


# SQLite connections open at once per process. Each has its own thread; beyond a few, concurrent statements only
# fight over the GIL (measured by bench.lifelong: 64 connections served a third of what 4 did), so callers queue.
SQLITE_CONNECTIONS = 4
# The page cache of the two connections each worker keeps (small reads, write transactions), in KiB: the indexes'
# upper pages and the busy tables stay in the process instead of being read from the OS again (SQLite's default
# is 2 MiB; on bench.lifelong's 5 GB file the dashboard's statements took ~8% less).
KEPT_CACHE_KIB = 65_536


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, with a few connections kept open and reused.

    Piccolo opens a new connection (and a new thread) for every statement outside a transaction and for
    every transaction: ~2.5 ms each, most of a page's time. Here at most SQLITE_CONNECTIONS connections are
    opened, set up once (foreign keys, busy timeout) and handed from a shared stack; a caller waits for one when
    all are busy, and a statement is one trip to the connection's thread. aiosqlite makes a future on the
    caller's loop for each call, so a connection serves any event loop (the waiting is per loop). Write
    transactions of this process also queue on an asyncio lock (one per loop) before taking a connection, so
    they never hold one while waiting; other processes still wait through the busy timeout."""

    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__(path=path, timeout=timeout)
        self._idle: list[aiosqlite.Connection] = []
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is None:
            slot = self._slots[loop] = asyncio.Semaphore(SQLITE_CONNECTIONS)
        return slot

    async def get_connection(self) -> aiosqlite.Connection:
        """A connection for the caller alone until `release`: every get_connection is paired with a release."""
        slot = self._slot()
        await slot.acquire()
        try:
            if self._idle:
                return self._idle.pop()
            connection = aiosqlite.connect(**self.connection_kwargs)
            # A daemon worker thread: an idle pooled connection must not keep a finished command alive.
            connection._thread.daemon = True
            await connection
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
            return connection
        except BaseException:
            slot.release()
            raise

    async def release(self, connection: aiosqlite.Connection) -> None:
        try:
            if connection.in_transaction:  # a failed COMMIT/ROLLBACK left it open: never hand that on
                await connection.close()
            elif len(self._idle) < SQLITE_CONNECTIONS:
                self._idle.append(connection)
            else:
                await connection.close()
        finally:
            self._slot().release()

    async def close_connections(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def write_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None, query_type: str = "generic",
                                      table: Any = None) -> Any:
        connection = await self.get_connection()
        try:
            return await connection.execute_fetchall(query, args or [])
        finally:
            await self.release(connection)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> Any:
        return await connection.execute_fetchall(query, args or [])

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class _LoopConnection:
    """A sqlite3 connection driven right on the event loop, with the part of aiosqlite's surface transactions use.

    Write transactions run their statements here. Each is tens of microseconds of SQLite; a trip to a pool thread
    comes back through the event loop's queue, behind whatever other requests have ready, and under load that held
    the write lock (so every other writer) for tens of milliseconds a transaction. Kept one per thread."""

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        self._connection = connection
        self._timeout = timeout

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    async def begin(self, kind: str) -> None:
        """BEGIN IMMEDIATE without blocking the loop: another process's writer is waited for in short sleeps (up to
        the engine's busy timeout), not in SQLite's busy handler."""
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + self._timeout, 0.001
        self._connection.execute("PRAGMA busy_timeout = 0")
        while True:
            try:
                self._connection.execute(f"BEGIN {kind}")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or loop.time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        # Holding the write lock, a statement can still meet a checkpoint of another process: wait for it then.
        self._connection.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    async def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        if sql == "COMMIT":
            # The commit waits for the disk (synchronous=FULL: a filed case survives a power cut), ~2 ms here. It
            # waits in a thread, the write lock still held, while the loop serves other requests.
            return await asyncio.to_thread(self._connection.execute, sql, parameters)
        return self._connection.execute(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = ()) -> list[Any]:
        return self._connection.execute(sql, parameters).fetchall()

    async def executemany(self, sql: str, rows: Any) -> None:
        self._connection.executemany(sql, rows)

    async def close(self) -> None:
        self._connection.close()


_writers = threading.local()


def _kept_connection(db: PooledSQLiteEngine) -> sqlite3.Connection:
    """A connection this thread keeps (small reads, write transactions), used from the event loop."""
    connection = sqlite3.connect(**{**db.connection_kwargs, "check_same_thread": False})
    connection.execute("PRAGMA foreign_keys = 1")
    connection.execute(f"PRAGMA cache_size = -{KEPT_CACHE_KIB}")
    return connection


def _loop_writer(db: PooledSQLiteEngine) -> _LoopConnection:
    writer = getattr(_writers, "connection", None)
    if writer is None:
        connection = _kept_connection(db)
        connection.row_factory = dict_factory  # the rows Piccolo's queries expect
        writer = _writers.connection = _LoopConnection(connection, db.connection_kwargs.get("timeout", 30))
    return writer


class _PooledTransaction(SQLiteTransaction):
    """A read transaction on a pooled connection; a write one (IMMEDIATE) on this thread's loop connection, holding
    this process's write lock throughout."""

    __slots__ = ("_lock", "before_commit", "bulk")

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        self._lock = engine.write_lock() if self.transaction_type is not TransactionType.deferred else None
        if self._lock is not None:
            await self._lock.acquire()
        try:
            if self._lock is not None and not getattr(self, "bulk", False):
                self.connection = _loop_writer(engine)
                await self.connection.begin(self.transaction_type.value)
            else:
                self.connection = await engine.get_connection()
                try:
                    await self.begin()
                except BaseException:
                    await engine.release(self.connection)
                    raise
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self.before_commit = {} if self._lock is not None else None
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            if not exception and self.before_commit:
                try:
                    await _run_before_commit(self)
                except BaseException:
                    await self.rollback()
                    raise
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            engine.current_transaction.reset(self.context)
            if not isinstance(self.connection, _LoopConnection):
                await engine.release(self.connection)
            elif self.connection.in_transaction:  # a failed COMMIT/ROLLBACK: never reuse that connection
                del _writers.connection
                await self.connection.close()
            if self._lock is not None:
                self._lock.release()
        return exception is None


class _PgWriteTransaction(PostgresTransaction):
    """PostgreSQL's write transaction, running what was queued for its commit (`queue_before_commit`) first."""

    __slots__ = ("before_commit",)

    async def __aenter__(self) -> PostgresTransaction:
        self.before_commit = {}
        return await super().__aenter__()

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is None and not exception and self.before_commit:
            try:
                await _run_before_commit(self)
            except BaseException as error:
                await super().__aexit__(type(error), error, error.__traceback__)  # rolls back, hands the connection on
                raise
        return await super().__aexit__(exception_type, exception, traceback)


BeforeCommit = Callable[[list[Any]], Awaitable[None]]


def queue_before_commit(write: BeforeCommit, item: Any) -> bool:
    """Queue `item` on the open write transaction: just before it commits, `write` gets every item queued for it, in
    order, and runs on that transaction (its failure rolls the whole transaction back). What a transaction appends
    to a shared sequence (the audit chain) waits for the end this way, so whatever it must lock for that is held
    only for the commit, after every other lock the transaction takes. False when no transaction is open;
    RuntimeError in a read transaction."""
    transaction = engine().current_transaction.get()
    if transaction is None:
        return False
    queued = getattr(transaction, "before_commit", None)  # read transactions have none
    if queued is None:
        raise RuntimeError("needs a write_tx(), not a read transaction")
    queued.setdefault(write, []).append(item)
    return True


async def _run_before_commit(transaction: Any) -> None:
    queued, transaction.before_commit = transaction.before_commit, {}
    for write, items in queued.items():
        await write(items)


_small_reads = threading.local()
# Set by a benchmark's diagnosis (bench.search.captured_statements) to see the statements small reads run on SQLite,
# which skip Piccolo's compiling; None otherwise.
observe_statement: Callable[[str, tuple[Any, ...]], None] | None = None


async def read_small(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A small read (through an index, LIMITed: well under a millisecond of SQLite), Piccolo's `raw` syntax.

    On SQLite it runs right here on the event loop, on a connection kept for this thread, instead of a trip to a
    pooled connection's thread: at this size the trip (two thread switches, the rows built under a contended
    GIL) costs several times the statement, and busy pages (/me, every request's session) make a handful. WAL
    readers never wait for the writer, so the loop is not held for long. Inside a transaction, and on
    PostgreSQL, it is the ordinary `raw`."""
    from piccolo.querystring import QueryString

    db = engine()
    if not isinstance(db, PooledSQLiteEngine) or db.current_transaction.get() is not None:
        return [dict(row) for row in await db.run_querystring(QueryString(sql, *args))]
    connection = getattr(_small_reads, "connection", None)
    if connection is None:
        connection = _small_reads.connection = _kept_connection(db)
    statement = _sqlite_statement(sql)
    if observe_statement is not None:
        observe_statement(statement, args)
    cursor = connection.execute(statement, args)
    names = [column[0] for column in cursor.description or ()]  # once, not per row as a row factory would
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@functools.lru_cache(maxsize=1024)
def _sqlite_statement(sql: str) -> str:
    """Piccolo's `raw` template (`{}` for each value, `{{`/`}}` for braces) as an SQLite statement, worked out once
    per template: what `QueryString.compile_string` does, without parsing the same template on every request."""
    return "".join(text + ("?" if field is not None else "") for text, field, _, _ in string.Formatter().parse(sql))


async def read_small_all(*reads: Coroutine[Any, Any, Any]) -> list[Any]:
    """Several small reads' results, in order: one after another on SQLite, where each runs right on the event
    loop and a task per read would only add its own cost; at once on PostgreSQL, each on a pooled connection."""
    if isinstance(engine(), PooledSQLiteEngine):
        return [await read for read in reads]
    return list(await asyncio.gather(*reads))


async def read_one(sql: str, *args: Any) -> dict[str, Any] | None:
    """The first row of a small read, or None."""
    rows = await read_small(sql, *args)
    return rows[0] if rows else None


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        # 30 s busy timeout: other processes' writers queue behind BEGIN IMMEDIATE instead of failing.
        return PooledSQLiteEngine(path=path, timeout=30)
    if database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": database_url})
    raise ValueError(f"unsupported DATABASE_URL scheme: {database_url.split(':', 1)[0]}")


def engine() -> Engine:
    from app.piccolo_conf import DB

    return DB


def write_tx(*, bulk: bool = False) -> Any:
    """A write transaction: `BEGIN IMMEDIATE` on SQLite so concurrent writers queue instead of deadlocking.

    On SQLite a request's transaction runs on the event loop (see _LoopConnection); `bulk` is for a long one (a
    job's sweep, an import, a rebuild), whose statements go to a pool thread so the worker keeps serving meanwhile."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        transaction = db.transaction(transaction_type=TransactionType.immediate)
        if isinstance(transaction, _PooledTransaction):
            transaction.bulk = bulk
        return transaction
    return _PgWriteTransaction(engine=db)


async def hold(name: str) -> None:
    """Until the open write transaction ends, another write transaction that holds the same `name` waits for it:
    PostgreSQL's transaction-scoped advisory lock on the name's hash. On SQLite a write transaction already holds
    the database's write lock."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("hold() is for an open write_tx()")
    await transaction.connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", name)


async def unused_number(table: str, column: str, draw: Callable[[], str]) -> str:
    """A number for the unique `table.column`, drawn by `draw()` inside the open write transaction until one is not
    in use. A concurrent transaction that drew the same number (PostgreSQL) waits on hold() and then sees it taken."""
    while True:
        number = draw()
        await hold(f"{table}.{column}={number}")
        if await read_one(f"SELECT 1 AS taken FROM {table} WHERE {column} = {{}}", number) is None:  # noqa: S608 - our names
            return number


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
    small, writer = getattr(_small_reads, "connection", None), getattr(_writers, "connection", None)
    if small is not None:
        del _small_reads.connection
        small.close()
    if writer is not None:
        del _writers.connection
        await writer.close()
    if isinstance(db, PooledSQLiteEngine):
        await db.close_connections()
    elif isinstance(db, PostgresEngine) and get_settings().db_pool_size > 0:
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
