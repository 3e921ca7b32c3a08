"""A holder's cases and certificates read from an index alone: the personal page's timeline lists its holder's newest
cases and certificates, and each index entry holds what a line shows, so fifty lines are a few index pages instead
of fifty table rows scattered over the file."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T05:55:56:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering indexes for a holder's page"

_CASE_COLUMNS = "id, state, submitted_at, decided_on, item, case_no"
INDEXES = (
    ("filing_case_applicant_page",
     f"CREATE INDEX IF NOT EXISTS filing_case_applicant_page ON filing_case (applicant, {_CASE_COLUMNS})"),
    ("filing_case_holder_page",
     f"CREATE INDEX IF NOT EXISTS filing_case_holder_page ON filing_case (holder_person, {_CASE_COLUMNS})"),
    ("certificate_holder_page",
     "CREATE INDEX IF NOT EXISTS certificate_holder_page ON certificate (holder_person, id, certificate_type, "
     "cert_no, issued_on, valid_until, state, holder_entity)"),
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
