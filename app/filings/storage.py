"""Uploaded materials: checked by their content (never their name), stored once under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio
from PIL import Image

from app.errors import DomainError
from app.i18n import _
from app.settings import get_settings

CHUNK = 256 * 1024
MAX_PIXELS = 40_000_000
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<svg")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    root: Path


@lru_cache(maxsize=1)
def limits() -> Limits:
    """YIWANG_UPLOAD_MAX_MB (default 20) per file; YIWANG_MATERIALS_DIR (default var/materials)."""
    max_mb = int(os.environ.get("YIWANG_UPLOAD_MAX_MB", "20"))
    root = Path(os.environ.get("YIWANG_MATERIALS_DIR", get_settings().var_dir / "materials"))
    return Limits(max_bytes=max_mb * 1_000_000, root=root.resolve())


class UploadRejected(DomainError):
    status_code = 422


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    filename: str


def sniff(head: bytes) -> str | None:
    """The type by its magic bytes only."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def is_empty(upload: Any) -> bool:
    """An unchosen file input: browsers send a part with an empty filename."""
    return not getattr(upload, "filename", "")


def display_name(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).lstrip(". ").strip()
    return base[:120] or "材料"


def material_path(sha256: str) -> Path:
    if not SHA256_RE.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return limits().root / sha256[:2] / sha256[2:4] / sha256


def extension_for(content_type: str) -> str:
    return EXTENSIONS.get(content_type, "")


def _verify(path: Path, content_type: str, field: str) -> None:
    """The whole file must be what its first bytes claim; an image must decode and stay within MAX_PIXELS."""
    if content_type == "application/pdf":
        with path.open("rb") as fp:
            head = fp.read(1024).lower()
            fp.seek(max(path.stat().st_size - 1024, 0))
            tail = fp.read()
        if not re.match(rb"%pdf-[12]\.\d", head) or b"%%eof" not in tail.lower():
            raise UploadRejected(_("The PDF file is damaged or incomplete."), field)
        if any(marker in head for marker in HTML_MARKERS):
            raise UploadRejected(_("Only PDF, JPEG or PNG files are accepted."), field)
        return
    expected = "JPEG" if content_type == "image/jpeg" else "PNG"
    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise UploadRejected(_("The image is too large (more than %(mp)d million pixels).",
                                       mp=MAX_PIXELS // 1_000_000), field)
            if im.format != expected:
                raise UploadRejected(_("Only PDF, JPEG or PNG files are accepted."), field)
            im.verify()
    except UploadRejected:
        raise
    except Exception:  # any decoder error means the image is not sound
        raise UploadRejected(_("The image file is damaged or incomplete."), field) from None


async def store_upload(upload: Any, field: str) -> StoredFile:
    """Stream the upload to a temp file (refusing it past the size limit), check it, and keep it under its hash.

    Nothing is left behind for a refused file."""
    lim = limits()
    tmp_dir = lim.root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / secrets.token_hex(16)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with tmp.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > lim.max_bytes:
                    raise UploadRejected(_("The file is larger than %(mb)d MB.", mb=lim.max_bytes // 1_000_000),
                                         field)
                if len(head) < 1024:
                    head += chunk[: 1024 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRejected(_("The file is empty."), field)
        content_type = sniff(head)
        if content_type is None:
            raise UploadRejected(_("Only PDF, JPEG or PNG files are accepted."), field)
        await anyio.to_thread.run_sync(_verify, tmp, content_type, field)
        sha = digest.hexdigest()
        target = material_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            os.chmod(tmp, 0o640)
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return StoredFile(sha256=sha, size=size, content_type=content_type, filename=display_name(upload.filename))
