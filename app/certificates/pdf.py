"""HTML → PDF (WeasyPrint) → PAdES signature (pyHanko), in worker processes off the event loop.

WeasyPrint only ever sees our own files: the fetcher serves `ASSET_BASE` URLs from `static/` and the compact
certificate fonts (see fonts.py) at `FONT_BASE`, and refuses every other URL (file://, http(s)://, data:). Renders
run in a small process pool: a render that overruns RENDER_TIMEOUT is killed with its process, and each process is
replaced after MAX_RENDERS_PER_PROCESS renders so memory stays in check. A new process warms itself up (imports,
fonts, one render and one signature) before it takes work, and keeps its font configuration and the departments'
loaded signers from one render to the next."""

from __future__ import annotations

import asyncio
import atexit
import functools
import gc
import hashlib
import io
import logging
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from app.certificates import fonts
from app.settings import ROOT

log = logging.getLogger("yiwang.certificates")

ASSET_BASE = "https://assets.yiwang.invalid/static/"  # never resolved over a network: the fetcher maps it
FONT_BASE = "https://assets.yiwang.invalid/fonts/"  # the compact fonts, made at run time outside static/
STATIC = (ROOT / "static").resolve()
RENDER_TIMEOUT = 30.0  # seconds
MAX_RENDERS_PER_PROCESS = 200  # a process stays at ~130-190 MB over 300 renders; starting one takes ~2 s
RENDER_PROCESSES = 1


@dataclass(frozen=True)
class SignRequest:
    key: str
    cert: str
    ca_cert: str
    reason: str
    location: str


# --- in the worker process ------------------------------------------------------------------------------------

def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    font_files = {face.file_name for face in fonts.FACES}

    class OwnAssetsOnly(URLFetcher):
        """Our static files and our fonts, nothing else."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            path = None
            if url.startswith(ASSET_BASE):
                relative = unquote(urlsplit(url).path).removeprefix(urlsplit(ASSET_BASE).path)
                path = (STATIC / relative).resolve()
                if not path.is_relative_to(STATIC):
                    path = None
            elif url.startswith(FONT_BASE) and url.removeprefix(FONT_BASE) in font_files:
                path = fonts.font_dir() / url.removeprefix(FONT_BASE)
            if path is None or not path.is_file():
                log.warning("certificate render: refused %s", url[:200])
                raise ValueError(f"refused: {url[:80]}")
            mime = {".svg": "image/svg+xml", ".css": "text/css", ".png": "image/png", ".otf": "font/otf"}.get(
                path.suffix, "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return OwnAssetsOnly()


@functools.cache
def _typesetting() -> tuple[Any, Any, list[Any]]:
    """This process's fetcher, font configuration and @font-face rules, kept from render to render: a fresh font
    configuration per document would load the fonts again each time (WeasyPrint's default)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fetcher, font_config = _fetcher(), FontConfiguration()
    rules = "".join(f'@font-face {{ font-family: "{fonts.FAMILY}"; src: url({FONT_BASE}{face.file_name}); '
                    f"font-weight: {face.weight}; }}" for face in fonts.ensure_fonts())
    sheets = [CSS(string=rules, font_config=font_config, url_fetcher=fetcher)] if rules else []
    # Let go of it while the interpreter is whole: its __del__ removes its folder of font copies.
    atexit.register(_typesetting.cache_clear)
    return fetcher, font_config, sheets


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    fetcher, font_config, sheets = _typesetting()
    return HTML(string=html, base_url=ASSET_BASE, url_fetcher=fetcher).write_pdf(stylesheets=sheets,
                                                                                 font_config=font_config)


def _load_signer(key: str, cert: str, ca_cert: str) -> tuple[Any, int]:
    """The signer and the room its signature needs in the file (pyHanko's own estimate, made once per key
    instead of by a trial signature in every sign_pdf)."""
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(ca_cert,))
    if signer is None:
        raise RuntimeError("the department's signing key could not be loaded")
    trial = asyncio.run(signer.async_sign(hashlib.sha256().digest(), "sha256", dry_run=True, use_pades=True,
                                          signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC))))
    size = len(trial.dump()) * 2  # hex in the file
    return signer, size + 2 * (size // 4)  # pyHanko's margin


@functools.lru_cache(maxsize=64)
def _cached_signer(key: str, cert: str, ca_cert: str, version: tuple[int, ...]) -> tuple[Any, int]:
    return _load_signer(key, cert, ca_cert)


def sign_pdf(pdf: bytes, req: SignRequest) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    version = tuple(Path(p).stat().st_mtime_ns for p in (req.key, req.cert, req.ca_cert))  # a new key is seen
    signer, reserved = _cached_signer(req.key, req.cert, req.ca_cert, version)
    meta = signers.PdfSignatureMetadata(field_name="Signature", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, reason=req.reason,
                                        location=req.location)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer, bytes_reserved=reserved)
    return out.getvalue()


def render_and_sign(html: str, req: SignRequest) -> bytes:
    return sign_pdf(render_pdf(html), req)


WARM_UP_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<link rel="stylesheet" href="css/certificate.css"></head><body><div class="frame">
<header><img class="emblem" src="img/emblem.svg" alt=""><h1>电子证照</h1></header>
<table><tr><th>持证人</th><td>一网通办 2026</td></tr></table>
<footer><div class="qr"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20"><path d="M2 2.5h7m4 0h1"/>
<text x="10" y="10" font-family="Yiwang Serif SC, Noto Serif CJK SC" transform="rotate(30 10 10)">印</text></svg></div>
<p>扫码核验：https://yiwang.invalid/verify/0</p></footer></div></body></html>"""


def _throwaway_signer(folder: Path) -> SignRequest:
    """A self-signed key for the warm-up signature: the departments' keys stay where they are."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "warm-up")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return SignRequest(key=str(folder / "key.pem"), cert=str(folder / "cert.pem"), ca_cert=str(folder / "cert.pem"),
                       reason="warm-up", location="warm-up")


def warm_up() -> None:
    """Each render process's initializer: everything a first render would load, loaded now. Then the loaded
    objects are frozen out of the garbage collector's full sweeps, which otherwise walk them every ~20 renders.
    Never raises: a failed warm-up only leaves the first render cold (a raising initializer breaks the pool)."""
    try:
        with tempfile.TemporaryDirectory(prefix="yiwang-warm-") as folder:
            render_and_sign(WARM_UP_HTML, _throwaway_signer(Path(folder)))
    except Exception:
        log.exception("certificate render process: warm-up failed")
    _cached_signer.cache_clear()
    gc.collect()
    gc.freeze()


# --- in the server -----------------------------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=RENDER_PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                                    max_tasks_per_child=MAX_RENDERS_PER_PROCESS, initializer=warm_up)
    return _pool


def start_render_pool() -> None:
    """Start the render process now, so it has warmed up before the first certificate (for a startup hook; the
    benchmark uses it)."""
    _get_pool().submit(os.getpid)


def render_process_ids() -> list[int]:
    """The pool's live processes (for the benchmark's memory figure)."""
    return list(getattr(_pool, "_processes", None) or {})


def shutdown_pool() -> None:
    """At the server's shutdown: end the render process, after the render it may be running. Not waiting left it
    running on its own once a uvicorn worker process had exited (found by the deployment test: one per worker)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


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
