"""The audit log's hash chain: each row's own hash and the one before it (app.audit.chain)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T10:41:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain columns"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)
    for column in ("prev_hash", "row_hash"):
        manager.add_column(
            table_class_name="AuditEvent",
            tablename="audit_event",
            column_name=column,
            db_column_name=column,
            column_class_name="Bytea",
            column_class=Bytea,
            params={
                "default": None,
                "null": True,
                "primary_key": False,
                "unique": False,
                "index": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
