"""The supervisors' queue of access-log disputes (数据查询异议): a citizen questions an officer's look at their
data on /me/access-log; a supervisor weighs the officer's reason, finds the look justified or not, and answers.
The answer (finding first) shows on the citizen's access log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.accounts.sessions import CurrentUser
from app.audit.services import record, record_alone
from app.db import utcnow, write_tx
from app.errors import Conflict, FieldErrors, NotFound
from app.i18n import N_, _
from app.lifelong.records import access_page_of, with_officer_names
from app.lifelong.tables import AccessDispute
from app.notify.services import notify

FINDINGS = {"justified": N_("Justified (合理)"), "unjustified": N_("Unjustified (不合理)")}
ANSWER_MAX = 1000
ANSWERED_SHOWN = 20


@dataclass(frozen=True)
class Queue:
    open: list[dict[str, Any]]  # the oldest question first
    answered: list[dict[str, Any]]  # the latest answers


_COLUMNS = (
    AccessDispute.id, AccessDispute.reason, AccessDispute.state, AccessDispute.answer, AccessDispute.created_at,
    AccessDispute.answered_at, AccessDispute.raised_by.display_name.as_alias("citizen_name"),
    AccessDispute.answered_by.display_name.as_alias("answered_by_name"),
    AccessDispute.access.id.as_alias("access_id"), AccessDispute.access.created_at.as_alias("accessed_at"),
    AccessDispute.access.officer_id.as_alias("officer_id"),
    AccessDispute.access.department_id.as_alias("department_id"),
    AccessDispute.access.case_no.as_alias("case_no"), AccessDispute.access.what.as_alias("what"),
    AccessDispute.access.reason.as_alias("access_reason"),
)


async def queue() -> Queue:
    """Every open dispute, the oldest first, and the latest answered ones."""
    waiting = await AccessDispute.select(*_COLUMNS).where(AccessDispute.state == "open").order_by(
        AccessDispute.created_at).order_by(AccessDispute.id)
    answered = await AccessDispute.select(*_COLUMNS).where(AccessDispute.state == "answered").order_by(
        AccessDispute.answered_at, ascending=False).limit(ANSWERED_SHOWN)
    return Queue(open=await with_officer_names(waiting), answered=await with_officer_names(answered))


def answer_text(finding: str, text: str) -> str:
    """What the citizen reads: the finding, then the supervisor's explanation."""
    return _("Finding: %(finding)s", finding=_(FINDINGS[finding])) + "\n" + text


async def answer(user: CurrentUser, dispute_id: int, finding: str, text: str, *, ip: str) -> None:
    """Answer an open dispute: the finding and its explanation; the citizen is told, the answer audited."""
    dispute = await AccessDispute.select(AccessDispute.id, AccessDispute.state, AccessDispute.raised_by,
                                         AccessDispute.access, AccessDispute.access.holder_person.as_alias("person"),
                                         ).where(AccessDispute.id == dispute_id).first()
    if dispute is None:
        raise NotFound()
    text = text.strip()
    errors = FieldErrors()
    if finding not in FINDINGS:
        errors.add("finding", _("Please say whether the look was justified."))
    if not text:
        errors.add("answer", _("Please explain the finding to the citizen."))
    elif len(text) > ANSWER_MAX:
        errors.add("answer", _("Please keep it within %(n)d characters.", n=ANSWER_MAX))
    errors.raise_if_any()
    page = await access_page_of(dispute["person"], dispute["access"]) if dispute["person"] else 1
    async with write_tx():
        changed = await AccessDispute.update({
            AccessDispute.state: "answered", AccessDispute.answer: answer_text(finding, text),
            AccessDispute.answered_by: user.id, AccessDispute.answered_at: utcnow(),
        }).where(AccessDispute.id == dispute_id, AccessDispute.state == "open").returning(AccessDispute.id)
        if changed:
            await record("access.dispute.answer", actor_id=user.id, subject_type="access_dispute",
                         subject_key=str(dispute_id), ip=ip, finding=finding, access=dispute["access"])
            await notify(dispute["raised_by"], _("Your question about an access to your data is answered"),
                         _(FINDINGS[finding]), f"/me/access-log?page={page}#access-{dispute['access']}")
    if not changed:
        await record_alone("access.dispute.answer", outcome="conflict", actor_id=user.id,
                           subject_type="access_dispute", subject_key=str(dispute_id), ip=ip, reason="not open")
        raise Conflict(_("This question has already been answered."))

