"""Operator commands: `python -m app serve|migrate|seed|catalog import/export|jobs run|worker|stats rebuild|keys init|
nginx-config|audit verify|backup DIR|restore DIR`."""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import secrets
import sys
import time
from typing import Any

import anyio

from app.settings import get_settings


def keys_init() -> None:
    """Create the session secret and the certificate root CA once (0600 files in 0700 folders outside git);
    never overwrite them."""
    from app.certificates.keys import ca_cert_path, init_ca, private_dir, write_new

    settings = get_settings()
    private_dir(settings.keys_dir)
    if write_new(settings.secret_file, secrets.token_urlsafe(48).encode(), 0o600):
        print(f"keys: wrote {settings.secret_file}")
    else:
        print(f"keys: {settings.secret_file} already exists, kept")
    print(f"keys: {'created' if init_ca() else 'kept'} the certificate root CA {ca_cert_path()}")


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from app.db import close_pool, prepare_sqlite_file

    prepare_sqlite_file()
    try:
        result = await run_forwards(app_name="all")
    finally:
        await close_pool()
    if not result.success:
        raise SystemExit(f"migrate: {result.message}")
    if not get_settings().is_sqlite:
        from app.queue import create_tables

        if await create_tables():
            print("migrate: made the jobs queue's tables")


async def seed(args: argparse.Namespace) -> None:
    from app.db import close_pool, start_pool

    await start_pool()
    try:
        if args.demo:
            from app.certificates.keys import init_ca
            from app.demo import seed_demo

            init_ca()  # the demo's approved cases issue signed certificates (a no-op once `keys init` ran)
            started = time.perf_counter()
            summary = await seed_demo()
            print(f"seed: demo city {summary} in {time.perf_counter() - started:.1f}s")
        if args.persons or args.enterprises:
            from app.registry.bulk import load_registry

            started = time.perf_counter()
            counts = await load_registry(args.persons, args.enterprises)
            print(f"seed: {counts} in {time.perf_counter() - started:.1f}s")
    finally:
        await close_pool()


async def catalog(args: argparse.Namespace) -> None:
    import json

    from app.catalog.schema import CatalogueErrors
    from app.catalog.services import export_catalogue, import_catalogue, load_file
    from app.db import close_pool, start_pool

    await start_pool()
    try:
        if args.action == "import":
            started = time.perf_counter()
            try:
                result = await import_catalogue(load_file(args.file), note=f"import {os.path.basename(args.file)}")
            except CatalogueErrors as exc:
                print(f"catalog import: {len(exc.errors)} error(s), nothing was changed:", file=sys.stderr)
                for line in exc.errors:
                    print(f"  {line}", file=sys.stderr)
                raise SystemExit(1) from None
            print(f"catalog import: {result.items_added} added, {result.items_changed} changed, "
                  f"{result.items_unchanged} unchanged; {result.material_types} material types, "
                  f"{result.certificate_types} certificate types in {time.perf_counter() - started:.1f}s")
        else:
            doc = await export_catalogue()
            text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
            await anyio.Path(args.file).write_text(text, encoding="utf-8")
            print(f"catalog export: {len(doc['items'])} items to {args.file}")
    finally:
        await close_pool()


async def audit_verify() -> None:
    """Walk the audit chain; exit 1 naming the first broken row."""
    from app.audit.chain import verify
    from app.db import close_pool, start_pool

    await start_pool()
    try:
        started = time.perf_counter()
        verdict = await verify()
    finally:
        await close_pool()
    took = time.perf_counter() - started
    if not verdict.ok:
        print(f"audit verify: BROKEN at row id {verdict.broken_id}: {verdict.problem} "
              f"({verdict.rows} rows before it verified, {took:.1f}s)", file=sys.stderr)
        raise SystemExit(1)
    head = f"; head: row id {verdict.head_id}, hash {verdict.head_hash.hex()}" if verdict.head_hash else ""
    print(f"audit verify: OK, {verdict.rows} rows{head} ({took:.1f}s)")


def backup(args: argparse.Namespace) -> None:
    from pathlib import Path

    from app.backup import BackupError, backup

    started = time.perf_counter()
    try:
        manifest = backup(Path(args.dir))
    except BackupError as exc:
        raise SystemExit(f"backup: {exc}") from None
    head = manifest["audit_head"]
    print(f"backup: {manifest['database']['file']} ({manifest['database']['bytes'] / 1e6:.1f} MB, "
          f"{sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables), "
          f"{manifest['files']['count']} stored files ({manifest['files']['bytes'] / 1e6:.1f} MB), audit chain head: "
          f"{'row id ' + str(head['id']) if head else 'empty'}; in {args.dir} ({time.perf_counter() - started:.1f}s)")
    if manifest["missing_files"]:
        print(f"backup: {len(manifest['missing_files'])} files the database references were missing or damaged in "
              f"the store and are not in the backup (listed in its manifest): {', '.join(manifest['missing_files'])}",
              file=sys.stderr)
        raise SystemExit(1)


def restore(args: argparse.Namespace) -> None:
    from pathlib import Path

    from app.backup import BackupError, restore

    started = time.perf_counter()
    try:
        done = restore(Path(args.dir), force=args.force)
    except BackupError as exc:
        raise SystemExit(f"restore: {exc}") from None
    print(f"restore: {done.rows} rows in {done.tables} tables, {done.files} stored files, an audit chain of "
          f"{done.audit_rows} rows from {args.dir} ({time.perf_counter() - started:.1f}s)")
    if done.problems:
        print("restore: the restored data does not match the backup:", file=sys.stderr)
        for line in done.problems:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1)
    print("restore: checked against the manifest (every table's count, every file's SHA-256, the audit chain): OK")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        access_log=False,  # app.web.access_log writes it, for a fraction of the cost
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("YIWANG_TRUSTED_PROXIES", "127.0.0.1"),
        log_level="info",
        log_config=uvicorn_log_config(),
    )


NGINX_SITE = """\
# Yiwang behind nginx (`python -m app nginx-config` wrote this): put it in /etc/nginx/conf.d/yiwang.conf.
# Each upstream server is `python -m app serve --workers N`, with YIWANG_TRUSTED_PROXIES set to this proxy's address
# as the servers see it (its X-Forwarded-For is believed from there only).
upstream yiwang {{
{servers}
}}

server {{
    listen {listen};
    server_name {server_name};
    # The app checks each file against YIWANG_UPLOAD_MAX_MB itself; one form may carry several.
    client_max_body_size {body_mb}m;

    location / {{
        proxy_pass http://yiwang;
        proxy_set_header Host $host;
        # The address this proxy saw, replacing any the client sent: rate limits and the audit log rest on it.
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 120s;
    }}
}}
"""


def nginx_config(args: argparse.Namespace) -> str:
    """A sample nginx site in front of one or more `serve` processes (the deployment test runs this very text)."""
    from app.filings.storage import limits

    return NGINX_SITE.format(servers="\n".join(f"    server {u};" for u in args.upstream or ["127.0.0.1:8000"]),
                             listen=args.listen, server_name=args.server_name,
                             body_mb=limits().max_bytes * 4 // 1_000_000 + 1)


# Several processes write to one log: each line says which (a request's worker, a queue worker).
LOG_FORMAT = "%(asctime)s pid=%(process)d %(levelname)s %(name)s: %(message)s"


def uvicorn_log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["fmt"] = LOG_FORMAT  # uvicorn's access log is off: app.web.access_log writes it
    return config


async def jobs_worker(concurrency: int) -> None:
    """A queue worker (PostgreSQL): defers each scheduled job once per period and runs the queued ones."""
    import logging

    from app.db import close_pool, start_pool
    from app.queue import work

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    await start_pool()
    try:
        await work(concurrency)
    finally:
        await close_pool()


async def jobs_run() -> None:
    """Every scheduled job once (idempotent): for an operator's cron when in-process jobs are off."""
    from app import jobs
    from app.db import close_pool, start_pool

    await start_pool()
    try:
        for name, count in (await jobs.run_all()).items():
            print(f"{name}: {count}")
    finally:
        await close_pool()


async def stats_rebuild() -> None:
    """Count the supervision roll-ups again from the data (after a bulk load or a repair)."""
    from app.db import close_pool, start_pool
    from app.supervision.rollup import rebuild

    await start_pool()
    try:
        started = time.perf_counter()
        rows = await rebuild()
        print(f"stats: {rows} roll-up rows in {time.perf_counter() - started:.1f}s")
    finally:
        await close_pool()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description="Yiwang operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the web server")
    p_serve.add_argument("--host", default=os.environ.get("YIWANG_HOST", "127.0.0.1"))
    p_serve.add_argument("--port", type=int, default=int(os.environ.get("YIWANG_PORT", "8000")))
    p_serve.add_argument("--workers", type=int, default=int(os.environ.get("YIWANG_WORKERS", "1")))
    sub.add_parser("migrate", help="apply database migrations")
    p_seed = sub.add_parser("seed", help="load demo data or bulk registry volumes")
    p_seed.add_argument("--demo", action="store_true", help="the lived-in demo city (idempotent)")
    p_seed.add_argument("--persons", type=int, default=0, help="add N registry persons (bulk)")
    p_seed.add_argument("--enterprises", type=int, default=0, help="add M legal entities (bulk)")
    p_catalog = sub.add_parser("catalog", help="import or export a whole catalogue (JSON, see app/catalog/FORMAT.md)")
    p_catalog.add_argument("action", choices=["import", "export"])
    p_catalog.add_argument("file")
    p_jobs = sub.add_parser("jobs", help="scheduled jobs (expiry notices …): run each once, or a queue worker")
    p_jobs.add_argument("action", choices=["run", "worker"])
    p_jobs.add_argument("--concurrency", type=int, default=1, help="jobs one worker runs at once (worker)")
    p_nginx = sub.add_parser("nginx-config", help="print a sample nginx site for the servers")
    p_nginx.add_argument("--listen", default="80", help="nginx's listen: a port or address:port")
    p_nginx.add_argument("--server-name", default="_")
    p_nginx.add_argument("--upstream", action="append", help="a server's host:port (repeatable; 127.0.0.1:8000)")
    p_stats = sub.add_parser("stats", help="supervision roll-ups")
    p_stats.add_argument("action", choices=["rebuild"])
    p_keys = sub.add_parser("keys", help="key management")
    p_keys.add_argument("action", choices=["init"])
    p_audit = sub.add_parser("audit", help="the audit log's hash chain")
    p_audit.add_argument("action", choices=["verify"])
    p_backup = sub.add_parser("backup", help="the database and its stored files into a new folder")
    p_backup.add_argument("dir")
    p_restore = sub.add_parser("restore", help="a backup folder into the configured database and store")
    p_restore.add_argument("dir")
    p_restore.add_argument("--force", action="store_true", help="replace a database that already holds data")
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args)
    elif args.command == "migrate":
        asyncio.run(migrate())
    elif args.command == "seed":
        if not (args.demo or args.persons or args.enterprises):
            parser.error("seed needs --demo or --persons/--enterprises")
        asyncio.run(seed(args))
    elif args.command == "catalog":
        asyncio.run(catalog(args))
    elif args.command == "jobs":
        asyncio.run(jobs_worker(args.concurrency) if args.action == "worker" else jobs_run())
    elif args.command == "stats":
        asyncio.run(stats_rebuild())
    elif args.command == "keys":
        keys_init()
    elif args.command == "nginx-config":
        print(nginx_config(args), end="")
    elif args.command == "audit":
        asyncio.run(audit_verify())
    elif args.command == "backup":
        backup(args)
    elif args.command == "restore":
        restore(args)


if __name__ == "__main__":
    main(sys.argv[1:])
