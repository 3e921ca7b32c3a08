"""Open to-dos by rule: the reminder job's done-marking reads only these."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T21:46:19:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial index on open to-dos"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def create_index():
        from app.lifelong.tables import Todo

        await Todo.raw("CREATE INDEX IF NOT EXISTS todo_open_kind ON todo (kind) WHERE done_at IS NULL")

    async def drop_index():
        from app.lifelong.tables import Todo

        await Todo.raw("DROP INDEX IF EXISTS todo_open_kind")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
