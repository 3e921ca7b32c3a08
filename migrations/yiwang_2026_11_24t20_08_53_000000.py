"""One number counter per certificate type and year."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T20:08:53:000000"
VERSION = "1.38.0"
DESCRIPTION = "certificate counter unique per type and year"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def create_index():
        from app.certificates.tables import CertificateCounter

        await CertificateCounter.raw("CREATE UNIQUE INDEX IF NOT EXISTS certificate_counter_type_year "
                                     "ON certificate_counter (certificate_type, year)")

    async def drop_index():
        from app.certificates.tables import CertificateCounter

        await CertificateCounter.raw("DROP INDEX IF EXISTS certificate_counter_type_year")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
