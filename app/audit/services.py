"""Writing audit rows; callers do it inside the transaction of the change they record, or, for what changes
nothing else (a refusal, a read, an export), with `record_alone`. The rows join the hash chain (app.audit.chain)
when that transaction commits."""

from __future__ import annotations

import json
from typing import Any

from app.audit import chain
from app.audit.tables import AuditEvent
from app.db import queue_before_commit, utcnow, write_tx


async def record(
    action: str,
    *,
    outcome: str = "ok",
    actor_id: int | None = None,
    subject_type: str = "",
    subject_key: str = "",
    ip: str = "",
    **detail: Any,
) -> None:
    """An audit row, written with the open write transaction's commit (chained there: see app.audit.chain); with
    no transaction open, in one of its own."""
    row = (utcnow(), actor_id, action[:48], outcome[:8], subject_type[:32], str(subject_key)[:64], ip[:45],
           json.dumps(detail, ensure_ascii=False, default=str) if detail else "")
    if not queue_before_commit(chain.append, row):
        async with write_tx():
            queue_before_commit(chain.append, row)


async def record_alone(action: str, **kw: Any) -> None:
    """An audit row in a write transaction of its own: for an action that changes nothing else."""
    async with write_tx():
        await record(action, **kw)


async def count_since(action: str, since: Any, *, subject_key: str | None = None, ip: str | None = None) -> int:
    query = AuditEvent.count().where(AuditEvent.action == action, AuditEvent.created_at >= since)
    if subject_key is not None:
        query = query.where(AuditEvent.subject_key == subject_key)
    if ip is not None:
        query = query.where(AuditEvent.ip == ip)
    return await query
