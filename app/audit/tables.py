"""The audit table: one row per security-relevant event, written in the transaction of the change."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table):
    created_at = Timestamptz(index=True)
    actor_id = Integer(null=True, default=None, index=True)
    action = Varchar(length=48, index=True)
    outcome = Varchar(length=8)
    subject_type = Varchar(length=32, default="")
    subject_key = Varchar(length=64, default="", index=True)
    ip = Varchar(length=45, default="", index=True)
    detail = Text(default="")
