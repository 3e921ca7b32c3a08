"""Finding an applicant's draft of an item: through the drafts alone, not every case the holder has."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drafts by applicant and item"

INDEXES = (
    ("filing_case_draft_applicant_item", "CREATE INDEX IF NOT EXISTS filing_case_draft_applicant_item "
                                         "ON filing_case (applicant, item) WHERE state = 'draft'"),
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
