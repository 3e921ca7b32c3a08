"""Notification tables: in-site messages, and the outbox the email/SMS adapters write to."""

from piccolo.columns import ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.accounts.tables import User


class Notification(Table):
    user = ForeignKey(User, index=True)
    title = Varchar(length=120)
    body = Text(default="")
    link = Varchar(length=200, default="")
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class OutboxMessage(Table):
    """An SMS or email waiting for (or handed to) its gateway; the default adapters only write here."""

    channel = Varchar(length=8)
    recipient = Varchar(length=120)
    subject = Varchar(length=120, default="")
    body = Text()
    created_at = Timestamptz(index=True)
    sent_at = Timestamptz(null=True, default=None)
