"""Notification table: one in-site message for one user."""

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
