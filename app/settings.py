"""Settings read once from the environment, with safe defaults for the embedded setup."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    db_pool_size: int
    var_dir: Path
    keys_dir: Path
    secure_cookies: bool
    session_idle_minutes: int
    session_absolute_hours: int
    login_max_failures_per_account: int
    login_max_failures_per_address: int
    login_window_minutes: int
    debug: bool
    access_log: bool  # a line per request on standard output (`serve`); behind nginx, its own log has them
    bench_baseline: bool
    public_url: str
    jobs_interval_minutes: int  # 0: no in-process jobs (an operator runs `python -m app jobs run`)
    jobs_on_queue: bool  # the scheduled jobs run from the queue's worker, not in the server (PostgreSQL only)
    jobs_cron: str  # when the queue's worker defers each scheduled job (cron, an optional 6th field in seconds)
    storage: str  # "local" (files under materials_dir) or "s3" (an S3-compatible bucket)
    materials_dir: Path
    s3_endpoint: str  # empty: Amazon S3 itself
    s3_bucket: str
    s3_region: str
    s3_access_key: str
    s3_secret_key: str = field(repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def secret_file(self) -> Path:
        return self.keys_dir / "session_secret"

    def secret(self) -> str:
        """The session/CSRF secret: env first, else the file `keys init` wrote."""
        env = os.environ.get("YIWANG_SECRET")
        if env:
            return env
        if self.secret_file.exists():
            return self.secret_file.read_text().strip()
        # No key yet (a bare test run): an ephemeral secret keeps things safe, just not persistent.
        return secrets.token_urlsafe(32)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = Path(os.environ.get("YIWANG_VAR_DIR", ROOT / "var")).resolve()
    database_url = os.environ.get("DATABASE_URL", f"sqlite:///{var_dir / 'yiwang.sqlite3'}")
    return Settings(
        database_url=database_url,
        db_pool_size=int(os.environ.get("YIWANG_DB_POOL_SIZE", "10")),
        var_dir=var_dir,
        keys_dir=Path(os.environ.get("YIWANG_KEYS_DIR", var_dir / "keys")).resolve(),
        secure_cookies=_bool("YIWANG_SECURE_COOKIES", False),
        session_idle_minutes=int(os.environ.get("YIWANG_SESSION_IDLE_MINUTES", "30")),
        session_absolute_hours=int(os.environ.get("YIWANG_SESSION_ABSOLUTE_HOURS", "12")),
        login_max_failures_per_account=int(os.environ.get("YIWANG_LOGIN_MAX_FAILURES_ACCOUNT", "5")),
        login_max_failures_per_address=int(os.environ.get("YIWANG_LOGIN_MAX_FAILURES_ADDRESS", "30")),
        login_window_minutes=int(os.environ.get("YIWANG_LOGIN_WINDOW_MINUTES", "15")),
        debug=_bool("YIWANG_DEBUG", False),
        access_log=_bool("YIWANG_ACCESS_LOG", True),
        bench_baseline=_bool("YIWANG_BENCH_BASELINE", False),
        public_url=os.environ.get("YIWANG_PUBLIC_URL", "http://127.0.0.1:8000"),
        jobs_interval_minutes=int(os.environ.get("YIWANG_JOBS_INTERVAL_MINUTES", "60")),
        jobs_on_queue=_bool("YIWANG_JOBS_QUEUE", True) and not database_url.startswith("sqlite"),
        jobs_cron=os.environ.get("YIWANG_JOBS_CRON", "0 * * * *"),
        storage=os.environ.get("YIWANG_STORAGE", "local").strip().lower(),
        materials_dir=Path(os.environ.get("YIWANG_MATERIALS_DIR") or var_dir / "materials").resolve(),
        s3_endpoint=os.environ.get("YIWANG_S3_ENDPOINT", ""),
        s3_bucket=os.environ.get("YIWANG_S3_BUCKET", ""),
        s3_region=os.environ.get("YIWANG_S3_REGION", "us-east-1"),
        s3_access_key=os.environ.get("YIWANG_S3_ACCESS_KEY", ""),
        s3_secret_key=os.environ.get("YIWANG_S3_SECRET_KEY", ""),
    )
