"""Certificate benchmark: render + sign time, PDF size, the render process's memory, download against a static file.

    python -m bench.certificates [--renders 50] [--requests 400] [--clients 8] [--keep]

A fresh data folder under /tmp (SQLite): `python -m app migrate`, `keys init`, `seed --demo` (the demo citizen
holds a signed 机动车驾驶证 in the generic layout, his company a 营业执照 in the licence layout). Then, in this
process, through the real render pool (`app.certificates.pdf.produce`: spawn, one process, the fetcher, the time
limit): the pool's first certificate (cold), `--renders` warm renders + signatures of each certificate, the split
in-process (HTML, render_pdf, sign_pdf), and the render process's RSS after 1, 10, 25 and `--renders` renders. Then
`python -m app serve --workers 1`, the holder logged in, and GET /certificates/{no}.pdf (the stored file, audited)
against GET /static/… of a copy of the very same PDF (put under static/ for the run and removed after), sequentially
on one keep-alive connection and with `--clients` concurrent ones.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.search import Row, free_port, fresh_var_dir, pct, print_table, start_server, stop_server, summary

ROOT = Path(__file__).resolve().parent.parent
TARGET_WARM_MS = 150.0
TARGET_PDF_BYTES = 300_000
TARGET_RSS_MB = 300.0
TARGET_DOWNLOAD_RATIO = 0.5
RSS_AFTER = (10, 25)



def code_fingerprint() -> str:
    files = ["app/certificates/pdf.py", "app/certificates/fonts.py", "app/certificates/services.py",
             "app/certificates/controllers.py", "static/css/certificate.css",
             "components/certificates/pdf/generic.html"]
    return ", ".join(f"{f.rsplit('/', 1)[-1]} {hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:8]}"
                     for f in files if (ROOT / f).exists())


def app_command(*args: str) -> None:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app", *args], env=dict(os.environ), check=True, cwd=ROOT,  # noqa: S603
                   capture_output=True)
    print(f"python -m app {' '.join(args)}: {time.perf_counter() - t:.1f}s", flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used: unlike wall time, hardly moved by other jobs on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


# --- rendering ---------------------------------------------------------------------------------------------------

async def render_inputs() -> list[dict[str, Any]]:
    """Each demo certificate with its HTML and signing request, made as ensure_pdf makes them."""
    from app.catalog.tables import CertificateType
    from app.certificates import keys
    from app.certificates.pdf import SignRequest
    from app.certificates.tables import Certificate
    from app.i18n import _
    from app.registry.tables import Department

    out = []
    for cert in await Certificate.select().order_by(Certificate.id):
        department = await Department.select().where(Department.id == cert["department"]).first()
        ctype = await CertificateType.select().where(CertificateType.id == cert["certificate_type"]).first()
        signer = keys.department_signer(department["code"], department["name"])
        req = SignRequest(key=str(signer.key), cert=str(signer.cert), ca_cert=str(signer.ca_cert),
                          reason=_("Electronic certificate %(no)s", no=cert["cert_no"]), location=department["name"])
        layout = "generic" if not (ROOT / f"components/certificates/pdf/{ctype['code'].lower()}.html").exists() \
            else ctype["code"].lower()
        out.append({"cert": cert, "ctype": ctype, "department": department, "req": req, "layout": layout,
                    "label": f"{ctype['code']} ({layout})"})
    if not out:
        raise SystemExit("the demo seeded no certificate")
    return out


def html_of(c: dict[str, Any]) -> str:
    from app.certificates.services import certificate_html

    return certificate_html(c["cert"], c["ctype"], c["department"])


async def timed_produce(html: str, req: Any) -> tuple[float, bytes]:
    from app.certificates.pdf import produce

    t = time.perf_counter()
    pdf = await produce(html, req)
    return (time.perf_counter() - t) * 1000, pdf


def in_process_split(c: dict[str, Any], n: int) -> dict[str, list[float]]:
    from app.certificates import pdf

    split: dict[str, list[float]] = {"html": [], "render_pdf": [], "sign_pdf": []}
    pdf.sign_pdf(pdf.render_pdf(html_of(c)), c["req"])
    for _i in range(n):
        t0 = time.perf_counter()
        page = html_of(c)
        t1 = time.perf_counter()
        unsigned = pdf.render_pdf(page)
        t2 = time.perf_counter()
        pdf.sign_pdf(unsigned, c["req"])
        t3 = time.perf_counter()
        for key, ms in zip(split, ((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000), strict=True):
            split[key].append(ms)
    return split


async def rendering(args: argparse.Namespace, certs: list[dict[str, Any]], table: list[Row]) -> None:
    from app.certificates import fonts, pdf

    # The compact font, made from the system font as a first start would (the demo seed made it already).
    folder = fonts.font_dir()
    shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    made = fonts.ensure_fonts()
    font_s = time.perf_counter() - t
    sizes = ", ".join(f"{f.file_name} {(folder / f.file_name).stat().st_size / 1e6:.1f} MB" for f in made)
    print(f"\ncompact fonts made in {font_s:.2f}s: {sizes}")
    table.append(("compact font made (first start only)", "—", f"{font_s:.2f} s, {len(made)} faces", None))

    generic = next((c for c in certs if c["layout"] == "generic"), certs[0])
    html = html_of(generic)
    pdf.shutdown_pool()
    cold_ms, _pdf = await timed_produce(html, generic["req"])
    print(f"cold: first certificate of a new pool (spawn, warm-up, render, sign): {cold_ms:.0f} ms")
    table.append(("cold: first render of a new pool", "—", f"{cold_ms:.0f} ms", None))

    n = args.renders
    if 1 + n * len(certs) > pdf.MAX_RENDERS_PER_PROCESS:
        print(f"(the render process is replaced every {pdf.MAX_RENDERS_PER_PROCESS} renders: once or more in this run)")
    for c in certs:
        c_html = html_of(c)
        times, out = [], b""
        for _i in range(n):
            ms, out = await timed_produce(c_html, c["req"])
            times.append(ms)
        c["pdf"] = out
        print(f"warm {c['label']}: produce() x{n}  {summary(times)}")
        print(f"  signed PDF {len(out) / 1000:.1f} KB")
        if c is generic:
            p50 = pct(times, 50)
            table.append((f"warm render+sign p50, {c['label']}, x{n}", f"<= {TARGET_WARM_MS:.0f} ms",
                          f"{p50:.0f} ms (p95 {pct(times, 95):.0f}, max {max(times):.0f})", p50 <= TARGET_WARM_MS))
        else:
            table.append((f"warm render+sign p50, {c['label']}", "—", f"{pct(times, 50):.0f} ms (p95 "
                          f"{pct(times, 95):.0f})", None))
        table.append((f"signed PDF size, {c['label']}", f"<= {TARGET_PDF_BYTES // 1000} KB",
                      f"{len(out) / 1000:.1f} KB", len(out) <= TARGET_PDF_BYTES))

    # Where the time goes, in this process (the same code the pool runs, without the process hop; in a thread,
    # as pyHanko runs its own event loop).
    split = await asyncio.to_thread(in_process_split, generic, min(n, 20))
    print("in-process split, " + generic["label"] + ": " + ", ".join(
        f"{k} p50 {statistics.median(v):.1f} ms" for k, v in split.items()))
    table.append(("in-process render_pdf / sign_pdf p50", "—", f"{statistics.median(split['render_pdf']):.0f} / "
                  f"{statistics.median(split['sign_pdf']):.0f} ms (HTML {statistics.median(split['html']):.1f})",
                  None))

    # Memory: a pool that does not recycle within the run, so one process does all the renders.
    pdf.shutdown_pool()
    default_max = pdf.MAX_RENDERS_PER_PROCESS
    pdf.MAX_RENDERS_PER_PROCESS = max(default_max, n + 10)
    try:
        pdf.start_render_pool()
        await timed_produce(html, generic["req"])
        pid = pdf.render_process_ids()[0]
        marks: list[str] = [f"after 1: {memory_mb(pid)['VmRSS']:.0f} MB"]
        rss: dict[str, float] = {}
        cpu_before, walls = cpu_seconds(pid), []
        for i in range(2, n + 1):
            walls.append((await timed_produce(html, generic["req"]))[0])
            if i in (*RSS_AFTER, n):
                rss = memory_mb(pid)
                marks.append(f"after {i}: {rss['VmRSS']:.0f} MB")
        cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / max(1, n - 1)
        print(f"render process RSS: {', '.join(marks)} (peak {rss['VmHWM']:.0f} MB)")
        print(f"render process CPU per render + sign: {cpu_ms:.0f} ms (wall p50 {pct(walls, 50):.0f} ms in the same "
              f"renders)")
    finally:
        pdf.shutdown_pool()
        pdf.MAX_RENDERS_PER_PROCESS = default_max
    table.append(("render process CPU per render + sign", "—", f"{cpu_ms:.0f} ms (wall p50 {pct(walls, 50):.0f})",
                  None))
    table.append((f"render process RSS after {n} renders", f"< {TARGET_RSS_MB:.0f} MB",
                  f"{rss['VmRSS']:.0f} MB (peak {rss['VmHWM']:.0f}; {marks[0]})", rss["VmRSS"] < TARGET_RSS_MB))


# --- download ------------------------------------------------------------------------------------------------

async def login(base: str, user_id: int) -> httpx.Cookies:
    """The session of a demo account (the certificate's applicant: the download is theirs to make)."""
    from app.accounts.tables import User
    from app.demo import DEMO_PASSWORD

    user = await User.select(User.mobile).where(User.id == user_id).first()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await client.get("/login")
        r = await client.post("/login", data={"mobile": user["mobile"], "password": DEMO_PASSWORD,
                                              "_csrf_token": client.cookies.get("yw_csrf", "")})
        if r.status_code != 303:
            raise SystemExit(f"login: {r.status_code} {r.text[:300]}")
        return client.cookies


async def fetch_loop(clients: list[httpx.AsyncClient], path: str, per_client: int,
                     body: bytes) -> tuple[list[float], float, list[str]]:
    """Each client requests the path per_client times; latencies (ms), req/s, errors."""
    times: list[float] = []
    errors: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        for _i in range(per_client):
            t = time.perf_counter()
            r = await client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200 or r.content != body:
                errors.append(f"GET {path}: {r.status_code}, {len(r.content)} bytes")

    await asyncio.gather(*(c.get(path) for c in clients))  # connections open
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    return times, len(times) / (time.perf_counter() - started), errors


async def downloads(args: argparse.Namespace, var_dir: Path, cert: dict[str, Any], table: list[Row]) -> None:
    from app.filestore import get_store

    body = get_store().get(cert["pdf_sha256"])
    static_copy = ROOT / "static" / f"bench-certificate-{secrets.token_hex(4)}.pdf"
    static_copy.write_bytes(body)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"\nHTTP: python -m app serve --workers 1 on {base}; {len(body) / 1000:.1f} KB, the same bytes both ways",
          flush=True)
    proc = start_server(var_dir, port)
    results: dict[str, tuple[list[float], float, list[str]]] = {}
    try:
        from app.certificates.services import by_number

        cookies = await login(base, (await by_number(cert["cert_no"]))["applicant"])
        paths = {"download": f"/certificates/{cert['cert_no']}.pdf", "static": f"/static/{static_copy.name}"}
        for mode, n_clients in (("seq", 1), (f"x{args.clients}", args.clients)):
            clients = [httpx.AsyncClient(base_url=base, timeout=60, cookies=cookies) for _ in range(n_clients)]
            try:
                per_client = max(1, args.requests // n_clients)
                # Alternating halves, so drift in the machine's load falls on both alike.
                for half in range(2):
                    for name, path in paths.items():
                        times, rate, errors = await fetch_loop(clients, path, per_client // 2, body)
                        prev = results.get(f"{name} {mode}", ([], 0.0, []))
                        results[f"{name} {mode}"] = (prev[0] + times, (prev[1] * half + rate) / (half + 1),
                                                     prev[2] + errors)
            finally:
                for c in clients:
                    await c.aclose()
    finally:
        stop_server(proc)
        static_copy.unlink(missing_ok=True)
    print(f"  server stopped (exit {proc.returncode}); {static_copy.name} removed")
    for label, (times, rate, errors) in results.items():
        print(f"  {label:16s} {summary(times)}  {rate:7.1f} req/s  errors {len(errors)}")
        for e in errors[:3]:
            print(f"    {e}")
    for mode in ("seq", f"x{args.clients}"):
        dl, st = results[f"download {mode}"], results[f"static {mode}"]
        ratio = dl[1] / st[1]
        label = "sequential" if mode == "seq" else f"{args.clients} clients"
        table.append((f"download/static rate, {label}", f">= {TARGET_DOWNLOAD_RATIO:.0%}",
                      f"{ratio:.0%} ({dl[1]:.0f} vs {st[1]:.0f} req/s, p50 {pct(dl[0], 50):.1f} vs "
                      f"{pct(st[0], 50):.1f} ms)", ratio >= TARGET_DOWNLOAD_RATIO and not dl[2] and not st[2],
                      f"{ratio:.0%} of the static file's req/s"))


# --- the run -------------------------------------------------------------------------------------------------

async def run(args: argparse.Namespace, var_dir: Path) -> list[Row]:
    table: list[Row] = []
    print(f"data folder: {var_dir}")
    print(f"code under test: {code_fingerprint()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    certs = await render_inputs()
    print("certificates: " + ", ".join(f"{c['cert']['cert_no']} {c['label']}" for c in certs))
    await rendering(args, certs, table)
    if not args.no_http:
        holder = next((c for c in certs if c["layout"] == "generic" and c["cert"]["holder_person"]), certs[0])
        print(f"\nload average before HTTP: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        await downloads(args, var_dir, holder["cert"], table)
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates", description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50, help="warm renders per certificate (default 50)")
    parser.add_argument("--requests", type=int, default=400, help="HTTP requests per route and mode (default 400)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--no-http", action="store_true", help="rendering figures only")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    args.renders = max(2, args.renders)
    var_dir = fresh_var_dir()
    os.environ.pop("YIWANG_KEYS_DIR", None)  # the keys in the fresh folder, whatever the shell says
    try:
        app_command("migrate")
        app_command("keys", "init")
        app_command("seed", "--demo")
        print_table(asyncio.run(run(args, var_dir)))
    finally:
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
