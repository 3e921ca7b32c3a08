"""The audit table: one row per security-relevant event, written in the transaction of the change."""

from piccolo.columns import Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table):
    """Chained by SHA-256 in id order (app.audit.chain): prev_hash is the row before's row_hash."""

    created_at = Timestamptz(index=True)
    actor_id = Integer(null=True, default=None, index=True)
    action = Varchar(length=48, index=True)
    outcome = Varchar(length=8)
    subject_type = Varchar(length=32, default="")
    subject_key = Varchar(length=64, default="", index=True)
    ip = Varchar(length=45, default="", index=True)
    detail = Text(default="")
    prev_hash = Bytea(null=True, default=None)
    row_hash = Bytea(null=True, default=None)


class DataAccess(Table):
    """An officer looked at a holder's data (a case, a material): shown on the holder's access log."""

    created_at = Timestamptz(index=True)
    holder_person = Integer(null=True, default=None, index=True)
    holder_entity = Integer(null=True, default=None, index=True)
    officer_id = Integer()
    department_id = Integer(null=True, default=None)
    case_no = Varchar(length=20, default="")
    what = Varchar(length=120)
    reason = Varchar(length=60, default="")
