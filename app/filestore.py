"""Where uploaded materials and certificate PDFs are kept, each once under its SHA-256: a folder on the local disk
(the default) or a bucket of an S3-compatible object store (YIWANG_STORAGE=s3), shared by every server.

Both stores have the same four blocking methods (run them off the event loop); `read` and `open_chunks` do that.
The content address is the only name a stored file ever has: nothing a client sent reaches a path or a key.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import anyio.to_thread

from app.settings import get_settings

SHA256_RE = re.compile(r"[0-9a-f]{64}")
CHUNK = 256 * 1024


def checked(sha256: str) -> str:
    """The digest itself when it is 64 lowercase hex characters; else ValueError (it becomes a path or a key)."""
    if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


def fresh_path(folder: Path) -> Path:
    """A new, server-named path in this folder (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / secrets.token_hex(16)


class FileStore(Protocol):
    """Content-addressed files. The caller has hashed what it puts: the store trusts the digest it is given."""

    tmp_dir: Path  # a local folder for files on their way in (for the local store on its own file system)

    def put(self, sha256: str, source: Path | bytes) -> None:
        """Keep these bytes (a file, which is moved or uploaded and then gone, or bytes); once kept, a no-op."""

    def get(self, sha256: str) -> bytes:
        """The whole file; FileNotFoundError if it is not kept."""

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO:
        """The file for reading in chunks (the caller closes it); FileNotFoundError if it is not kept."""


class LocalStore:
    """`<root>/<sha[:2]>/<sha[2:4]>/<sha>`, files 0640, written by an atomic rename from `<root>/tmp`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"

    def path(self, sha256: str) -> Path:
        sha = checked(sha256)
        return self.root / sha[:2] / sha[2:4] / sha

    def put(self, sha256: str, source: Path | bytes) -> None:
        target = self.path(sha256)
        if target.is_file():
            if isinstance(source, Path):
                source.unlink()
            return
        if isinstance(source, bytes):
            tmp = fresh_path(self.tmp_dir)
            tmp.write_bytes(source)
            source = tmp
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(source, 0o640)
            os.replace(source, target)  # atomic; a concurrent put of the same digest writes the same bytes
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            tmp = fresh_path(self.tmp_dir)  # a file from another file system: copied next to its place first
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o640)
            os.replace(tmp, target)
            source.unlink()

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")


class S3Store:
    """One object per file in a bucket of Amazon S3 or any S3-compatible store, keyed by the bare digest."""

    def __init__(self, *, endpoint: str, bucket: str, region: str, access_key: str, secret_key: str,
                 tmp_dir: Path) -> None:
        import boto3
        from botocore.config import Config

        if not bucket:
            raise ValueError("YIWANG_STORAGE=s3 needs YIWANG_S3_BUCKET")
        self.bucket = bucket
        self.tmp_dir = tmp_dir
        # Other S3-compatible stores answer at one host for every bucket (path-style), and not all of them know the
        # checksums boto3 adds to every request since 1.36; Amazon's own endpoint prefers the bucket in the host name.
        config = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                        s3={"addressing_style": "path" if endpoint else "auto"},
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        # boto3 clients are safe to share between threads; the credentials fall back to boto3's own chain.
        self.client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None,
                                   aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
                                   config=config)

    def _missing(self, exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in {"404", "NoSuchKey", "NotFound"}

    def put(self, sha256: str, source: Path | bytes) -> None:
        key = checked(sha256)
        if not self.exists(key):
            if isinstance(source, bytes):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=source)
            else:
                self.client.upload_file(str(source), self.bucket, key)
        if isinstance(source, Path):
            source.unlink(missing_ok=True)

    def get(self, sha256: str) -> bytes:
        with self.open(sha256) as body:
            return body.read()

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=checked(sha256))
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def open(self, sha256: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=checked(sha256))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(sha256) from None
            raise


@lru_cache(maxsize=1)
def get_store() -> FileStore:
    """The store the settings name, made once per process (a test that changes them calls `get_store.cache_clear()`
    after `get_settings.cache_clear()`)."""
    settings = get_settings()
    if settings.storage == "local":
        return LocalStore(settings.materials_dir)
    if settings.storage == "s3":
        return S3Store(endpoint=settings.s3_endpoint, bucket=settings.s3_bucket, region=settings.s3_region,
                       access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
                       tmp_dir=settings.var_dir / "tmp")
    raise ValueError(f"YIWANG_STORAGE must be local or s3, not {settings.storage!r}")


async def read(sha256: str) -> bytes:
    """A whole stored file (a certificate PDF: a few hundred KB), read off the event loop."""
    return await anyio.to_thread.run_sync(get_store().get, sha256)


async def open_chunks(sha256: str) -> AsyncIterator[bytes]:
    """A stored file in chunks, each read off the event loop. Opened now (FileNotFoundError before any response
    starts), closed however the download ends."""
    source = await anyio.to_thread.run_sync(get_store().open, sha256)
    return _chunks(source)


async def _chunks(source: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(source.read, CHUNK):
            yield chunk
    finally:
        await anyio.to_thread.run_sync(source.close)
