"""Bulk loading of generated registry data for benchmarks: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio.to_thread
import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from app.db import engine
from app.registry.generator import (
    ADULT_AGE,
    REFERENCE_DATE,
    DepartmentRow,
    EntityRow,
    Household,
    departments,
    iter_households,
    iter_legal_entities,
)
from app.settings import get_settings

CHUNK_ROWS = 20_000

PERSON_COLUMNS = (
    "id_number", "name", "sex", "birth_date", "region_code", "household_address", "ssc_number", "mobile",
)
LINK_COLUMNS = ("guardian", "child", "relation")
ENTITY_COLUMNS = (
    "uscc", "name", "entity_type", "legal_rep", "address", "industry", "registered_capital",
    "established_on", "region_code",
)
_DEPARTMENT_INSERT = (
    "INSERT INTO department (code, name, short_name, kind, level, region_code, region_name, parent, address,"
    " phone, sort_order) VALUES "
)
_SQLITE_DEPARTMENT = _DEPARTMENT_INSERT + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_POSTGRES_DEPARTMENT = _DEPARTMENT_INSERT + "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
_SQLITE_PERSON = (
    "INSERT INTO person (id_number, name, sex, birth_date, region_code, household_address, ssc_number, mobile)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_LINK = "INSERT INTO guardian_link (guardian, child, relation) VALUES (?, ?, ?)"
# The person is found by ID number inside the insert: one index probe per row, no id map kept in Python.
_SQLITE_ENTITY = (
    "INSERT INTO legal_entity (uscc, name, entity_type, legal_rep, address, industry, registered_capital,"
    " established_on, region_code) VALUES (?, ?, ?, (SELECT id FROM person WHERE id_number = ?), ?, ?, ?, ?, ?)"
)
# Legal representatives must be adults; born on or before this day they are 18 on REFERENCE_DATE.
ADULT_BORN_BY = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - ADULT_AGE)

T = TypeVar("T")


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _household_chunks(households: Iterable[Household]) -> Iterator[list[Household]]:
    """Whole households only, so every guardian link finds both its people in the same chunk."""
    chunk: list[Household] = []
    size = 0
    for household in households:
        chunk.append(household)
        size += len(household.persons)
        if size >= CHUNK_ROWS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _department_values(row: DepartmentRow, parent_id: int | None) -> tuple[object, ...]:
    return (
        row["code"], row["name"], row["short_name"], row["kind"], row["level"], row["region_code"],
        row["region_name"], parent_id, row["address"], row["phone"], row["sort_order"],
    )


class _Store(Protocol):
    async def add_departments(self, rows: list[DepartmentRow]) -> int: ...
    async def id_numbers(self) -> list[str]: ...
    async def usccs(self) -> list[str]: ...
    async def max_person_id(self) -> int: ...
    async def add_households(self, households: list[Household]) -> int: ...
    async def adult_id_numbers(self, after_id: int) -> list[str]: ...
    async def add_entities(self, rows: list[EntityRow]) -> None: ...
    async def close(self) -> None: ...


class _SQLiteStore:
    """One stdlib connection used from worker threads, one at a time; each chunk is one BEGIN IMMEDIATE."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        # NORMAL is still crash-safe in WAL mode; the large page cache keeps the id_number index in memory.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA cache_size=-262144")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _column(self, sql: str, *params: object) -> list[Any]:
        return [row[0] for row in self.conn.execute(sql, params)]

    async def add_departments(self, rows: list[DepartmentRow]) -> int:
        return await anyio.to_thread.run_sync(self._add_departments, rows)

    def _add_departments(self, rows: list[DepartmentRow]) -> int:
        with self._tx() as conn:
            ids: dict[str, int] = dict(conn.execute("SELECT code, id FROM department"))
            added = 0
            for row in rows:
                if row["code"] in ids:
                    continue
                parent = ids[row["parent_code"]] if row["parent_code"] else None
                cursor = conn.execute(_SQLITE_DEPARTMENT, _department_values(row, parent))
                ids[row["code"]] = cursor.lastrowid
                added += 1
        return added

    async def id_numbers(self) -> list[str]:
        return await anyio.to_thread.run_sync(self._column, "SELECT id_number FROM person")

    async def usccs(self) -> list[str]:
        return await anyio.to_thread.run_sync(self._column, "SELECT uscc FROM legal_entity")

    async def max_person_id(self) -> int:
        rows = await anyio.to_thread.run_sync(self._column, "SELECT coalesce(max(id), 0) FROM person")
        return rows[0]

    async def add_households(self, households: list[Household]) -> int:
        return await anyio.to_thread.run_sync(self._add_households, households)

    def _add_households(self, households: list[Household]) -> int:
        persons = [
            (p["id_number"], p["name"], p["sex"], p["birth_date"].isoformat(), p["region_code"],
             p["household_address"], p["ssc_number"], p["mobile"])
            for h in households for p in h.persons
        ]
        with self._tx() as conn:
            # The write lock is ours since BEGIN IMMEDIATE, so every id above the old maximum is one of these rows.
            last = conn.execute("SELECT coalesce(max(id), 0) FROM person").fetchone()[0]
            conn.executemany(_SQLITE_PERSON, persons)
            ids = dict(conn.execute("SELECT id_number, id FROM person WHERE id > ?", (last,)))
            links = [
                (ids[h.persons[g]["id_number"]], ids[h.persons[c]["id_number"]], relation)
                for h in households for g, c, relation in h.links
            ]
            conn.executemany(_SQLITE_LINK, links)
        return len(links)

    async def adult_id_numbers(self, after_id: int) -> list[str]:
        return await anyio.to_thread.run_sync(
            self._column, "SELECT id_number FROM person WHERE id > ? AND birth_date <= ? ORDER BY id",
            after_id, ADULT_BORN_BY.isoformat(),
        )

    async def add_entities(self, rows: list[EntityRow]) -> None:
        await anyio.to_thread.run_sync(self._add_entities, rows)

    def _add_entities(self, rows: list[EntityRow]) -> None:
        values = [
            (e["uscc"], e["name"], e["entity_type"], e["legal_rep_id_number"], e["address"], e["industry"],
             e["registered_capital"], e["established_on"].isoformat(), e["region_code"])
            for e in rows
        ]
        with self._tx() as conn:
            conn.executemany(_SQLITE_ENTITY, values)

    async def close(self) -> None:
        self.conn.close()


class _PostgresStore:
    """A connection of its own, outside Piccolo's pool, because COPY needs asyncpg's connection API."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def _ids(self, id_numbers: list[str]) -> dict[str, int]:
        rows = await self.conn.fetch(
            "SELECT id_number, id FROM person WHERE id_number = ANY($1::varchar[])", id_numbers
        )
        return {row["id_number"]: row["id"] for row in rows}

    async def add_departments(self, rows: list[DepartmentRow]) -> int:
        async with self.conn.transaction():
            ids = {r["code"]: r["id"] for r in await self.conn.fetch("SELECT code, id FROM department")}
            added = 0
            for row in rows:
                if row["code"] in ids:
                    continue
                parent = ids[row["parent_code"]] if row["parent_code"] else None
                ids[row["code"]] = await self.conn.fetchval(
                    _POSTGRES_DEPARTMENT, *_department_values(row, parent)
                )
                added += 1
        return added

    async def id_numbers(self) -> list[str]:
        return [row[0] for row in await self.conn.fetch("SELECT id_number FROM person")]

    async def usccs(self) -> list[str]:
        return [row[0] for row in await self.conn.fetch("SELECT uscc FROM legal_entity")]

    async def max_person_id(self) -> int:
        return await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM person")

    async def add_households(self, households: list[Household]) -> int:
        persons = [tuple(p[c] for c in PERSON_COLUMNS) for h in households for p in h.persons]
        async with self.conn.transaction():
            await self.conn.copy_records_to_table("person", records=persons, columns=PERSON_COLUMNS)
            ids = await self._ids([p[0] for p in persons])
            links = [
                (ids[h.persons[g]["id_number"]], ids[h.persons[c]["id_number"]], relation)
                for h in households for g, c, relation in h.links
            ]
            await self.conn.copy_records_to_table("guardian_link", records=links, columns=LINK_COLUMNS)
        return len(links)

    async def adult_id_numbers(self, after_id: int) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT id_number FROM person WHERE id > $1 AND birth_date <= $2 ORDER BY id", after_id, ADULT_BORN_BY
        )
        return [row[0] for row in rows]

    async def add_entities(self, rows: list[EntityRow]) -> None:
        async with self.conn.transaction():
            reps = await self._ids(list({e["legal_rep_id_number"] for e in rows}))
            records = [
                (e["uscc"], e["name"], e["entity_type"], reps[e["legal_rep_id_number"]], e["address"],
                 e["industry"], e["registered_capital"], e["established_on"], e["region_code"])
                for e in rows
            ]
            await self.conn.copy_records_to_table("legal_entity", records=records, columns=ENTITY_COLUMNS)

    async def close(self) -> None:
        await self.conn.close()


async def _open_store() -> _Store:
    db = engine()
    settings = get_settings()
    if isinstance(db, SQLiteEngine):
        return _SQLiteStore(settings.sqlite_path)
    if isinstance(db, PostgresEngine):
        return _PostgresStore(await asyncpg.connect(settings.database_url))
    raise TypeError(f"bulk loading does not support {type(db).__name__}")


async def load_registry(n_persons: int, n_entities: int, seed: int = 1) -> dict[str, int]:
    """Add departments (those missing), `n_persons` people in households with their guardian links, and
    `n_entities` legal entities represented by adults of this run (or of the whole registry when no
    people are added). Appends to whatever is there: ID numbers and USCCs never repeat existing ones."""
    store = await _open_store()
    try:
        added_departments = await store.add_departments(departments())
        existing = await store.id_numbers()
        # Each append draws new families rather than near-copies of the rows already there.
        run_seed = seed + len(existing) * 1_000_003
        first_new_id = await store.max_person_id() if n_persons else 0
        links = 0
        for chunk in _household_chunks(iter_households(run_seed, n_persons, existing_id_numbers=existing)):
            links += await store.add_households(chunk)
        del existing
        if n_entities:
            reps = await store.adult_id_numbers(first_new_id)
            entities = iter_legal_entities(run_seed, n_entities, reps, existing_usccs=await store.usccs())
            for rows in _chunks(entities, CHUNK_ROWS):
                await store.add_entities(rows)
    finally:
        await store.close()
    return {
        "departments": added_departments,
        "persons": n_persons,
        "guardian_links": links,
        "legal_entities": n_entities,
    }
