"""The audit log's hash chain: what the services write verifies; a changed, deleted or inserted row is named;
writers at once (each its own connection on PostgreSQL) still make one chain; `python -m app audit verify`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from app.audit import chain
from app.audit.services import record, record_alone
from app.audit.tables import AuditEvent
from app.db import engine, utcnow, write_tx
from app.filings.tables import Case, CaseStep
from app.settings import ROOT
from tests import factories
from tests.filing_fixture import VALID_FORM, apply_form, both_files, hall, submit

pytestmark = pytest.mark.anyio


async def five_rows() -> list[int]:
    """Five rows as services write them (one transaction with two, three alone); their ids in order."""
    async with write_tx():
        await record("case.submit", actor_id=7, subject_type="case", subject_key="20261207000001", ip="10.0.0.1",
                     item="440400-GA-002", note="第一件")
        await record("case.accept", actor_id=8, subject_type="case", subject_key="20261207000001")
    await record_alone("login.failed", outcome="failed", subject_type="user", subject_key="13800000001",
                       ip="2001:db8::1")
    await record_alone("certificate.download", actor_id=7, subject_type="certificate", subject_key="C1")
    await record_alone("access.denied", outcome="denied", actor_id=9, subject_type="case", subject_key="/x?y=1")
    return await AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id).output(as_list=True)


def cli_verify() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "audit", "verify"], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=60)


async def test_what_the_services_write_verifies_and_the_command_says_so(db) -> None:
    ids = await five_rows()
    verdict = await chain.verify()
    assert verdict.ok and verdict.rows == 5 and verdict.head_id == ids[-1]
    first = await AuditEvent.select().where(AuditEvent.id == ids[0]).first()
    assert first["prev_hash"] == chain.GENESIS and len(first["row_hash"]) == 32
    done = cli_verify()
    assert done.returncode == 0, done.stderr
    assert f"OK, 5 rows; head: row id {ids[-1]}, hash {verdict.head_hash.hex()}" in done.stdout

    await AuditEvent.update({AuditEvent.detail: '{"item": "440400-GA-001"}'}).where(AuditEvent.id == ids[0])
    broken = cli_verify()
    assert broken.returncode == 1 and f"BROKEN at row id {ids[0]}" in broken.stderr
    assert "does not match" not in broken.stdout and "0 rows before it verified" in broken.stderr


def changed(column: str, value: object) -> object:
    if column == "created_at":
        return value + timedelta(microseconds=1)
    return 12345 if column == "actor_id" else f"{value}!"


@pytest.mark.parametrize("column", chain.CONTENT)
async def test_a_changed_column_names_its_row(db, column: str) -> None:
    ids = await five_rows()
    row = await AuditEvent.select().where(AuditEvent.id == ids[2]).first()
    await AuditEvent.update({getattr(AuditEvent, column): changed(column, row[column])}).where(AuditEvent.id == ids[2])
    verdict = await chain.verify()
    assert verdict.broken_id == ids[2] and verdict.rows == 2 and verdict.head_id == ids[1]
    assert "its content hashes to" in verdict.problem


async def test_a_recomputed_hash_breaks_the_next_row(db) -> None:
    """Whoever changes a row and its hash to match still breaks the link from the row after it."""
    ids = await five_rows()
    before = await AuditEvent.select().where(AuditEvent.id == ids[1]).first()
    row = await AuditEvent.select().where(AuditEvent.id == ids[2]).first()
    forged = chain.row_hash(before["row_hash"], [*[row[c] for c in chain.CONTENT[:-1]], '{"n": 1}'])
    await AuditEvent.update({AuditEvent.detail: '{"n": 1}', AuditEvent.row_hash: forged}).where(
        AuditEvent.id == ids[2])
    verdict = await chain.verify()
    assert verdict.broken_id == ids[3] and "is not the hash of the row before it" in verdict.problem


async def test_a_deleted_row_is_named_by_the_row_after_it(db) -> None:
    ids = await five_rows()
    await AuditEvent.delete().where(AuditEvent.id == ids[2])
    verdict = await chain.verify()
    assert verdict.broken_id == ids[3] and verdict.rows == 2
    assert f"the row before it (id {ids[1]})" in verdict.problem and "deleted" in verdict.problem

    await AuditEvent.delete().where(AuditEvent.id == ids[0])  # the chain's first row
    assert (await chain.verify()).broken_id == ids[1]


async def test_a_row_inserted_in_the_middle_is_found(db) -> None:
    ids = await five_rows()
    # Ids have gaps (a PostgreSQL sequence skips what rolled back); they are not hashed, only their order counts.
    await AuditEvent.raw("UPDATE audit_event SET id = id + 1000 WHERE id > {}", ids[2])
    assert (await chain.verify()).ok
    third = await AuditEvent.select().where(AuditEvent.id == ids[2]).first()
    content = (utcnow(), 9, "case.approve", "ok", "case", "20261207000001", "", "")
    # A forger who knows the algorithm chains the row to the one before it: the row after it breaks.
    await AuditEvent.raw(
        "INSERT INTO audit_event (id, created_at, actor_id, action, outcome, subject_type, subject_key, ip, detail, "
        "prev_hash, row_hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        ids[2] + 1, *content, third["row_hash"], chain.row_hash(third["row_hash"], content))
    verdict = await chain.verify()
    assert verdict.broken_id == ids[3] + 1000 and verdict.rows == 4 and verdict.head_id == ids[2] + 1
    assert "inserted" in verdict.problem

    # Written with no hash at all (as by a plain INSERT), the row itself is named.
    await AuditEvent.raw("UPDATE audit_event SET prev_hash = NULL, row_hash = NULL WHERE id = {}", ids[2] + 1)
    verdict = await chain.verify()
    assert verdict.broken_id == ids[2] + 1 and "no row_hash" in verdict.problem


async def test_a_rolled_back_transaction_leaves_no_gap_and_a_read_transaction_takes_no_row(db) -> None:
    await record_alone("login.failed", outcome="failed", subject_key="1")
    with pytest.raises(ValueError, match="refused"):
        async with write_tx():
            await record("case.submit", subject_key="2")
            raise ValueError("refused")
    await record_alone("login.failed", outcome="failed", subject_key="3")
    assert [r["subject_key"] for r in await AuditEvent.select(AuditEvent.subject_key).order_by(AuditEvent.id)] \
        == ["1", "3"]
    assert (await chain.verify()).ok
    await record("access.denied", outcome="denied", subject_key="4")  # no transaction open: a row of its own
    assert (await chain.verify()).rows == 3
    with pytest.raises(RuntimeError, match="not a read transaction"):
        async with engine().transaction():
            await record("case.submit", subject_key="5")


async def test_rows_from_before_the_chain_are_sealed_by_the_migration_step(db) -> None:
    """The migration that added the chain seals the rows an older version wrote, in id order, as they stand."""
    for n in range(3):
        await AuditEvent.raw(
            "INSERT INTO audit_event (created_at, actor_id, action, outcome, subject_type, subject_key, ip, detail) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}, {})", utcnow(), n, "login.ok", "ok", "user", str(n), "", "")
    assert "no row_hash" in (await chain.verify()).problem
    async with write_tx():
        assert await chain.seal_all() == 3
    await record_alone("login.ok", subject_key="after")
    verdict = await chain.verify()
    assert verdict.ok and verdict.rows == 4


async def test_writers_at_once_make_one_chain(db) -> None:
    """Twenty transactions at once, each recording before and after a pause (on PostgreSQL each on its own
    connection, so they really overlap), some rolled back, beside concurrent submissions through the app."""

    async def writer(n: int) -> None:
        async with write_tx():
            await record("bench.one", subject_key=str(n))
            await asyncio.sleep(0.001 * (n % 5))
            await record("bench.two", subject_key=str(n))
            if n % 7 == 3:
                raise LookupError(n)

    results = await asyncio.gather(*(writer(n) for n in range(20)), return_exceptions=True)
    assert sum(isinstance(r, LookupError) for r in results) == 3
    verdict = await chain.verify()
    assert verdict.ok and verdict.rows == 34


async def test_concurrent_submissions_keep_the_chain(client) -> None:
    h = await hall()
    await factories.login(client, h.citizen.mobile)
    keys = [await apply_form(client) for _ in range(20)]
    form = {**VALID_FORM, "id_number": h.person.id_number}
    sent = await asyncio.gather(*(submit(client, key, files=both_files(), form=form) for key in keys))
    assert [r.status_code for r in sent] == [303] * 20
    cases = await Case.select(Case.id, Case.case_no).where(Case.state == "submitted")
    assert len(cases) == 20
    assert await CaseStep.count().where(CaseStep.action == "submit") == 20
    assert await AuditEvent.count().where(AuditEvent.action == "case.submit") == 20
    verdict = await chain.verify()
    assert verdict.ok and verdict.rows == await AuditEvent.count()
