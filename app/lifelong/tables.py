"""Tables of the pages: who may act for an enterprise, the to-dos the reminder rules write, and disputes of an
officer's look at the holder's data."""

from piccolo.columns import Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.accounts.tables import User
from app.audit.tables import DataAccess
from app.registry.tables import LegalEntity, Person


class EnterpriseMember(Table):
    """A user's role on an enterprise page: the legal representative or an authorised agent (经办人)."""

    entity = ForeignKey(LegalEntity, index=True)
    user = ForeignKey(User, index=True)
    role = Varchar(length=16)
    scope = Varchar(length=32, default="all")
    expires_on = Date(null=True, default=None)
    granted_by = ForeignKey(User, null=True)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class Todo(Table):
    """Something the page tells its holder to do, written by a reminder rule (app/lifelong/reminders.py).

    `dedupe` (holder, rule, subject) makes each to-do once however often the job runs; `done_at` is set when the
    matching case is filed (or the subject goes away)."""

    holder_person = ForeignKey(Person, null=True, index=True)
    holder_entity = ForeignKey(LegalEntity, null=True, index=True)
    kind = Varchar(length=24)  # certificate_expiring | id_card_expiring | school_enrolment | annual_report | ...
    dedupe = Varchar(length=120, unique=True)
    title = Varchar(length=120)
    body = Text(default="")
    link = Varchar(length=200, default="")
    due_on = Date(null=True, default=None)
    created_at = Timestamptz()
    done_at = Timestamptz(null=True, default=None)


class AccessDispute(Table):
    """The holder questions an officer's look at their data; it lands in the supervisors' queue."""

    access = ForeignKey(DataAccess, index=True)
    raised_by = ForeignKey(User, index=True)
    reason = Text()
    state = Varchar(length=16, default="open", index=True)  # open | answered
    answer = Text(default="")
    answered_by = ForeignKey(User, null=True)
    created_at = Timestamptz()
    answered_at = Timestamptz(null=True, default=None)
