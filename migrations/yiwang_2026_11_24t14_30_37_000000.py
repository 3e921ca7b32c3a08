"""The ranked search index: postings by gram in rank order, so a page of results is a short range scan."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T14:30:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "ranked search index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def create_index():
        from app.catalog.tables import SearchGram

        await SearchGram.raw("CREATE INDEX IF NOT EXISTS search_gram_ranked ON search_gram (gram, sort_key, item)")

    async def drop_index():
        from app.catalog.tables import SearchGram

        await SearchGram.raw("DROP INDEX IF EXISTS search_gram_ranked")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
