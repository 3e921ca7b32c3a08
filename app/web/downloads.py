"""Responses that send a stored file (a material, a certificate PDF) from the file store, whichever it is."""

from __future__ import annotations

from litestar.response import Stream

from app import filestore
from app.filings.storage import content_disposition


async def stored_file(sha256: str, *, size: int, media_type: str, name: str, fallback: str,
                      cache_control: str = "private, no-store") -> Stream:
    """The file shown in the browser (inline) under its display name, with an ASCII name for old clients."""
    return Stream(await filestore.open_chunks(sha256), media_type=media_type, headers={
        "Content-Length": str(size), "Cache-Control": cache_control,
        "Content-Disposition": content_disposition("inline", name, fallback)})
