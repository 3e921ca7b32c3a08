"""A covering index for search: postings by gram, with the item, so candidates never touch the table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T14:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search gram covering index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def create_index():
        from app.catalog.tables import SearchGram

        await SearchGram.raw("CREATE INDEX IF NOT EXISTS search_gram_gram_item ON search_gram (gram, item)")

    async def drop_index():
        from app.catalog.tables import SearchGram

        await SearchGram.raw("DROP INDEX IF EXISTS search_gram_gram_item")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
