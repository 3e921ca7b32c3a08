"""Uploaded materials: checked by their content (never their name), stored once under their SHA-256.

A material is kept in the file store (app.filestore: the local disk or an S3-compatible bucket) under its
SHA-256, a name the server chose, without an extension, so nothing the client sent (its filename, its content
type) ever reaches a path or a key. The same bytes uploaded twice are stored once. The client's filename is
kept only as a cleaned display name.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from PIL import Image, ImageFile

from app.errors import DomainError
from app.filestore import CHUNK, fresh_path, get_store
from app.i18n import _

MAX_PIXELS = 40_000_000
HEAD_BYTES = 1024  # the PDF header, and where a polyglot's HTML would have to be for a browser to sniff it
TAIL_BYTES = 1024  # where a complete PDF has its %%EOF
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
PDF_HEADERS = (b"%PDF-1.", b"%PDF-2.")
HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<svg")
# The formats Pillow may report for each sniffed type; cameras write multi-picture JPEGs, which Pillow calls MPO.
PIL_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",)}
DEFAULT_NAME = "材料"
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    max_bytes: int

    @property
    def max_mb(self) -> int:
        return self.max_bytes // 1_000_000


@lru_cache(maxsize=1)
def limits() -> Limits:
    """Upload settings, read once from the environment (to move into app.settings.Settings later).

    - YIWANG_UPLOAD_MAX_MB: the largest file accepted, in MB of 1,000,000 bytes (default 20).

    Cached: a test that changes the environment calls `limits.cache_clear()`.
    """
    max_mb = int(os.environ.get("YIWANG_UPLOAD_MAX_MB", "20"))
    if max_mb < 1:
        raise ValueError("YIWANG_UPLOAD_MAX_MB must be at least 1")
    return Limits(max_bytes=max_mb * 1_000_000)


class UploadRejected(DomainError):
    """An upload refused for its size or content: `UploadRejected(message, field)`, shown by the file input."""

    status_code = 422


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str  # as sniffed and verified by the server, never the client's
    filename: str  # display only: never part of a path


def sniff(head: bytes) -> str | None:
    """The type by its magic bytes only (never the filename or the client's content type)."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def is_empty(upload: Any) -> bool:
    """True for a file input the user left unchosen: no part, an empty filename (what browsers send), or 0 bytes.

    Callers skip such inputs; the size is looked up without moving the read position."""
    if upload is None or not getattr(upload, "filename", ""):
        return True
    file = getattr(upload, "file", None)
    if file is None:
        return False
    try:
        position = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(position)
    except (AttributeError, OSError, ValueError):
        return False
    return end == 0


def display_name(name: str | None) -> str:
    """The client's filename for display only: its last path part, without control characters or leading dots."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE_NAME_CHARS.sub("", base)
    base = "".join(ch for ch in base if ch.isprintable() or ch == " ")  # also drops bidi overrides and the like
    base = base.strip().lstrip(". ").strip()
    return base[:120].rstrip() or DEFAULT_NAME


def extension_for(content_type: str) -> str:
    """The extension for a download name: ".pdf", ".jpg" or ".png" ("" for anything else)."""
    return EXTENSIONS.get(content_type, "")


def content_disposition(kind: str, name: str, fallback: str) -> str:
    """RFC 6266 with the RFC 5987 UTF-8 name, and a plain ASCII name for the rare client without it."""
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _too_large(field: str) -> UploadRejected:
    return UploadRejected(_("The image is too large (more than %(mp)d million pixels).",
                            mp=MAX_PIXELS // 1_000_000), field)


def _verify_pdf(path: Path, field: str) -> None:
    size = path.stat().st_size
    with path.open("rb") as fp:
        head = fp.read(HEAD_BYTES)
        fp.seek(max(size - TAIL_BYTES, 0))
        tail = fp.read()
    lowered = head.lower()
    if any(marker in lowered for marker in HTML_MARKERS):  # a page in disguise: a browser could render it
        raise UploadRejected(_("Only PDF, JPEG or PNG files are accepted."), field)
    if not head.startswith(PDF_HEADERS) or b"%%EOF" not in tail:
        raise UploadRejected(_("The PDF file is damaged or incomplete."), field)


def _verify_image(path: Path, content_type: str, field: str) -> None:
    """Open with only the sniffed format's decoder, refuse more than MAX_PIXELS from the header alone, then check.

    PNG: `verify()` reads every chunk and checks its CRC. JPEG: Pillow's `verify()` checks nothing, so the
    image is decoded at 1/8 scale (the DCT does the scaling: little memory), which reads every scan."""
    formats = PIL_FORMATS[content_type]
    # Importing WeasyPrint sets this process-wide to True; a truncated upload must never pass as whole.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(path, formats=[formats[0]]) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise _too_large(field)
            if im.format not in formats:
                raise UploadRejected(_("Only PDF, JPEG or PNG files are accepted."), field)
            im.verify()
        if content_type == "image/jpeg":
            with Image.open(path, formats=["JPEG"]) as im:
                im.draft(im.mode, (max(width // 8, 1), max(height // 8, 1)))
                im.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # past Pillow's own limit: from the header
        raise _too_large(field) from None
    except Exception:  # any decoder error (truncated, bad CRC, not an image at all) means the image is not sound
        raise UploadRejected(_("The image file is damaged or incomplete."), field) from None


def _verify_and_keep(tmp: Path, content_type: str, sha: str, field: str) -> None:
    """In a worker thread: check the whole file, then hand it to the file store under its content address."""
    if content_type == "application/pdf":
        _verify_pdf(tmp, field)
    else:
        _verify_image(tmp, content_type, field)
    get_store().put(sha, tmp)


async def store_upload(upload: Any, field: str) -> StoredFile:
    """Stream the upload to a temp file (refusing it as soon as it passes the size limit), check its content
    off the event loop, and keep it under its SHA-256. Raises UploadRejected; nothing is left behind then.

    `upload` is a Litestar UploadFile, or anything with `async read(size)` and `filename`."""
    lim = limits()
    tmp = await anyio.to_thread.run_sync(fresh_path, get_store().tmp_dir)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        async with await anyio.open_file(tmp, "xb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > lim.max_bytes:
                    raise UploadRejected(_("The file is larger than %(mb)d MB.", mb=lim.max_mb), field)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                await out.write(chunk)
        if size == 0:
            raise UploadRejected(_("The file is empty."), field)
        content_type = sniff(head)
        if content_type is None:
            raise UploadRejected(_("Only PDF, JPEG or PNG files are accepted."), field)
        sha = digest.hexdigest()
        await anyio.to_thread.run_sync(_verify_and_keep, tmp, content_type, sha, field)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: tmp.unlink(missing_ok=True))
    return StoredFile(sha256=sha, size=size, content_type=content_type,
                      filename=display_name(getattr(upload, "filename", None)))


async def store_bytes(data: bytes, content_type: str, filename: str) -> StoredFile:
    """Keep a file the server made itself (a signed certificate) under its SHA-256, like an upload."""
    sha = hashlib.sha256(data).hexdigest()
    await anyio.to_thread.run_sync(get_store().put, sha, data)
    return StoredFile(sha256=sha, size=len(data), content_type=content_type, filename=display_name(filename))
