"""The roll-up's upsert key, active deadline cards per department, and open cases by due date (the card job)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T23:38:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "supervision indexes"

INDEXES = (
    ("case_rollup_key", "CREATE UNIQUE INDEX IF NOT EXISTS case_rollup_key ON case_rollup (department, item, month)"),
    ("case_card_active", "CREATE INDEX IF NOT EXISTS case_card_active ON case_card (department, color) "
                         "WHERE closed_on IS NULL"),
    ("filing_case_open_due", "CREATE INDEX IF NOT EXISTS filing_case_open_due ON filing_case (due_on) "
                             "WHERE state IN ('submitted', 'correction_requested', 'resubmitted', 'accepted', "
                             "'under_review')"),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def create_indexes():
        from app.supervision.tables import CaseRollup

        for _name, sql in INDEXES:
            await CaseRollup.raw(sql)

    async def drop_indexes():
        from app.supervision.tables import CaseRollup

        for name, _sql in INDEXES:
            await CaseRollup.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
