"""The supervision drill-down's case lists: a department's open cases by due date, and its late decisions."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T23:38:38:000000"
VERSION = "1.38.0"
DESCRIPTION = "supervision drill-down indexes"

INDEXES = (
    ("filing_case_open_department_due",
     "CREATE INDEX IF NOT EXISTS filing_case_open_department_due ON filing_case (department, due_on) "
     "WHERE state IN ('submitted', 'correction_requested', 'resubmitted', 'accepted', 'under_review')"),
    ("filing_case_late_department_decided",
     "CREATE INDEX IF NOT EXISTS filing_case_late_department_decided ON filing_case (department, decided_on) "
     "WHERE days_used > limit_days"),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def create_indexes():
        from app.filings.tables import Case

        for _name, sql in INDEXES:
            await Case.raw(sql)

    async def drop_indexes():
        from app.filings.tables import Case

        for name, _sql in INDEXES:
            await Case.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
