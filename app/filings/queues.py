"""Officers' work queues: what waits for each role in their department, oldest deadline first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.accounts.sessions import CurrentUser
from app.filings import workflow
from app.filings.tables import Case
from app.i18n import N_


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    role: str
    states: tuple[str, ...]

    def where(self, user: CurrentUser) -> tuple[Any, ...]:
        department = Case.hall if self.role == "clerk" else Case.department
        return department == user.department_id, Case.state.is_in(list(self.states))


QUEUES = (
    Queue("accept", N_("To accept (front desk)"), "clerk", ("submitted", "resubmitted")),
    Queue("review", N_("To review"), "reviewer", ("accepted",)),
    Queue("decide", N_("To decide"), "approver", ("under_review",)),
)
PAGE_SIZE = 50


def queues_for(user: CurrentUser) -> list[Queue]:
    return [q for q in QUEUES if q.role in user.roles]


async def counts(user: CurrentUser) -> list[tuple[Queue, int]]:
    return [(q, await Case.count().where(*q.where(user))) for q in queues_for(user)]


async def cases(user: CurrentUser, queue: Queue, page: int = 1) -> list[dict[str, Any]]:
    rows = await Case.select(
        Case.case_no, Case.state, Case.submitted_at, Case.due_on, Case.limit_days, Case.clock_started_on,
        Case.paused_since, Case.paused_days, Case.days_used, Case.proxy_consent,
        Case.item.name.as_alias("item_name"), Case.holder_person.name.as_alias("person_name"),
        Case.holder_entity.name.as_alias("entity_name"),
    ).where(*queue.where(user)).order_by(Case.due_on).order_by(Case.id).limit(PAGE_SIZE).offset(
        (max(page, 1) - 1) * PAGE_SIZE)
    cal = await workflow.load_calendar()
    today = workflow.local_today()
    return [{**r, "clock": workflow.clock_view(r, cal, today)} for r in rows]
