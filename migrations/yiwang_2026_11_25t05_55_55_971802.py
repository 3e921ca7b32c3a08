"""A holder's cases and certificates: the single-column indexes give way to the covering ones of the next migration."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-25T05:55:55:971802"
VERSION = "1.38.0"
DESCRIPTION = "page indexes replace the single-column holder indexes"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="yiwang", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="filing_case",
        column_name="applicant",
        db_column_name="applicant",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="filing_case",
        column_name="holder_person",
        db_column_name="holder_person",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Certificate",
        tablename="certificate",
        column_name="holder_person",
        db_column_name="holder_person",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
