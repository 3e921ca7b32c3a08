"""The audit rows written before the chain existed are sealed into it, in id order, as they stand at this
migration: the chain vouches for them from the upgrade on, not before. Run it with the servers stopped (an older
server would go on writing rows outside the chain). Tens of millions of rows take minutes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T10:41:24:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal the existing audit rows into the chain"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="yiwang", description=DESCRIPTION)

    async def seal():
        from app.audit.chain import seal_all

        sealed = await seal_all()
        if sealed:
            print(f"(sealed {sealed} audit rows) ", end="")

    manager.add_raw(seal)
    return manager
