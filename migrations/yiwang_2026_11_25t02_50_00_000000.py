"""Indexes for the reads every page makes: the unread count in the header (every logged-in request), a holder's
newest messages, and a holder's cases under way (/me), which otherwise read every case they ever filed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T02:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unread messages, newest messages and open cases per holder"

OPEN = "state IN ('submitted', 'correction_requested', 'resubmitted', 'accepted', 'under_review')"
INDEXES = (
    ("notification_unread", 'CREATE INDEX IF NOT EXISTS notification_unread ON notification ("user") '
                            "WHERE read_at IS NULL"),
    ("notification_user_created",
     'CREATE INDEX IF NOT EXISTS notification_user_created ON notification ("user", created_at)'),
    ("filing_case_open_applicant", f"CREATE INDEX IF NOT EXISTS filing_case_open_applicant ON filing_case (applicant) "
                                   f"WHERE {OPEN}"),
    ("filing_case_open_holder_person",
     f"CREATE INDEX IF NOT EXISTS filing_case_open_holder_person ON filing_case (holder_person) WHERE {OPEN}"),
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
