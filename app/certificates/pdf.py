"""HTML → PDF (WeasyPrint) → PAdES signature (pyHanko), in worker processes off the event loop.

WeasyPrint only ever sees our own static folder: the fetcher serves `ASSET_BASE` URLs from `static/` and
refuses every other URL (file://, http(s)://, data:). Fonts come from fontconfig (Noto CJK, subset by
HarfBuzz). Renders run in a small process pool: a render that overruns RENDER_TIMEOUT is killed with its
process, and each process is replaced after MAX_RENDERS_PER_PROCESS renders so memory stays in check."""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from app.settings import ROOT

log = logging.getLogger("yiwang.certificates")

ASSET_BASE = "https://assets.yiwang.invalid/static/"  # never resolved over a network: the fetcher maps it
STATIC = (ROOT / "static").resolve()
RENDER_TIMEOUT = 30.0  # seconds
MAX_RENDERS_PER_PROCESS = 50
RENDER_PROCESSES = 1


@dataclass(frozen=True)
class SignRequest:
    key: str
    cert: str
    ca_cert: str
    reason: str
    location: str


# --- in the worker process ------------------------------------------------------------------------------------

def _fetcher() -> object:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OwnAssetsOnly(URLFetcher):
        """Our static files, nothing else."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            path = None
            if url.startswith(ASSET_BASE):
                relative = unquote(urlsplit(url).path).removeprefix(urlsplit(ASSET_BASE).path)
                path = (STATIC / relative).resolve()
            if path is None or not path.is_relative_to(STATIC) or not path.is_file():
                log.warning("certificate render: refused %s", url[:200])
                raise ValueError(f"refused: {url[:80]}")
            mime = {".svg": "image/svg+xml", ".css": "text/css", ".png": "image/png"}.get(path.suffix,
                                                                                           "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return OwnAssetsOnly()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=ASSET_BASE, url_fetcher=_fetcher()).write_pdf()


def sign_pdf(pdf: bytes, req: SignRequest) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(req.key, req.cert, ca_chain_files=(req.ca_cert,))
    if signer is None:
        raise RuntimeError("the department's signing key could not be loaded")
    meta = signers.PdfSignatureMetadata(field_name="Signature", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, reason=req.reason,
                                        location=req.location)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return out.getvalue()


def render_and_sign(html: str, req: SignRequest) -> bytes:
    return sign_pdf(render_pdf(html), req)


# --- in the server -----------------------------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=RENDER_PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                                    max_tasks_per_child=MAX_RENDERS_PER_PROCESS)
    return _pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _kill_pool() -> None:
    """A render overran its time: end the processes (the pool has no public way to stop a running task)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)


async def produce(html: str, req: SignRequest) -> bytes:
    """The signed PDF of this HTML, rendered in a worker process within RENDER_TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_get_pool(), render_and_sign, html, req)
    try:
        return await asyncio.wait_for(future, RENDER_TIMEOUT)
    except TimeoutError:
        _kill_pool()
        raise

