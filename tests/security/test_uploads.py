"""Hostile uploads against the real apply endpoint: oversize, polyglots, renamed HTML, path-traversal names, pixel
floods, truncated files, zero bytes. A refusal is a Chinese message by the file input with everything typed kept and
nothing stored; what is accepted really is a PDF, JPEG or PNG, stored under a name the server chose and served back
as what it is. Never a 500."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app import filestore
from app.filings import storage
from app.filings.tables import Material
from tests import factories
from tests.filing_fixture import ITEM, PDF_BYTES, VALID_FORM, apply_form, hall, png_bytes, png_claiming
from tests.security.world import sign_in

pytestmark = pytest.mark.anyio

FIELD = "file_id_card"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 60).convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def gifar() -> bytes:
    """A GIF with a Java archive appended (the classic GIFAR)."""
    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, format="GIF")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Main-Class: Evil\n")
    return buffer.getvalue() + archive.getvalue()


def png_with_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.html", "<script>alert(1)</script>")
    return png_bytes() + archive.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"

# (what, filename, bytes, client's content type, words of the message shown by the field)
REFUSED = [
    ("renamed HTML", "证明.pdf", HTML, "application/pdf", "只接受"),
    ("SVG with a script, named .png", "照片.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
     b"</script></svg>", "image/png", "只接受"),
    ("a PDF header in front of HTML", "证明.pdf", b"%PDF-1.4\n" + HTML + b"\n%%EOF\n", "application/pdf", "只接受"),
    ("a PDF header with a script before its first object", "a.pdf", PDF_BYTES.replace(b"1 0 obj", b"<script>1 0 obj"),
     "application/pdf", "只接受"),
    ("GIFAR", "photo.gif", gifar(), "image/gif", "只接受"),
    ("a Windows program", "身份证.png", b"MZ\x90\x00" + b"\x00" * 200, "image/png", "只接受"),
    ("pixel flood 50000x50000", "大图.png", png_claiming(50_000, 50_000), "image/png", "图片过大"),
    ("pixel flood 1x2000000000", "长图.png", png_claiming(1, 2_000_000_000), "image/png", "图片过大"),
    ("truncated PNG", "截断.png", png_bytes(size=(400, 300))[:300], "image/png", "损坏"),
    ("truncated JPEG", "截断.jpg", jpeg_bytes()[:600], "image/jpeg", "损坏"),
    ("truncated PDF", "截断.pdf", PDF_BYTES[:80], "application/pdf", "损坏"),
    ("a PNG signature and nothing else", "空.png", b"\x89PNG\r\n\x1a\n", "image/png", "损坏"),
    ("a JPEG signature and garbage", "乱.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, "image/jpeg", "损坏"),
    ("zero bytes", "空.pdf", b"", "application/pdf", "请上传"),
]

# Sound files under hostile names or with a lying content type: kept, under the server's name only.
ACCEPTED = [
    ("../../etc/passwd", png_bytes(), "image/png", "image/png", "passwd"),
    ("/etc/cron.d/evil", PDF_BYTES, "application/pdf", "application/pdf", "evil"),
    ("..\\..\\Windows\\win.ini", jpeg_bytes(), "image/jpeg", "image/jpeg", "win.ini"),
    ("a\x00.png\x00.html", png_bytes("blue"), "image/png", "image/png", "a.png.html"),
    ("长" * 300 + ".pdf", PDF_BYTES, "application/pdf", "application/pdf", "长" * 120),
    ("page.html", PDF_BYTES, "text/html", "application/pdf", "page.html"),
    ("a PNG with HTML after its end.png", png_bytes("green") + HTML, "image/png", "image/png", None),
    ("a PNG with a ZIP after its end.png", png_with_zip(), "image/png", "image/png", None),
    ("a PDF carrying HTML past its head.pdf", PDF_BYTES.replace(b"%%EOF", b"%" + b" " * 1100 + HTML + b"\n%%EOF"),
     "application/pdf", "application/pdf", None),
]


@pytest.fixture(scope="module")
async def place(module_client: Any) -> Any:
    return await hall()


def stored_files() -> set[Path]:
    root = filestore.get_store().root
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def apply_with(client: Any, place: Any, filename: str, data: bytes, content_type: str,
                     action: str = "submit") -> tuple[Any, Any]:
    """A fresh citizen (nothing in their library yet) applies with this file as the ID card."""
    user, person = await factories.citizen()
    await sign_in(client, user.id)
    key = await apply_form(client)
    fields = {**VALID_FORM, "id_number": person.id_number, "key": key, "action": action,
              "_csrf_token": client.cookies.get("yw_csrf", "")}
    body, boundary = multipart(fields, [(FIELD, filename, data, content_type),
                                        ("file_proof", "证明.pdf", PDF_BYTES, "application/pdf")])
    response = await client.post(f"/services/{ITEM}/apply", content=body, follow_redirects=False,
                                 headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    return response, person


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    """The form as a browser could send it, byte for byte: file names go out raw (no client-side escaping), so
    the server sees NUL bytes, quotes and line breaks as they are."""
    boundary = "----yiwang-fuzz-7MA4YWxkTrZu0gW"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
             + value.encode(errors="surrogateescape") + b"\r\n" for name, value in fields.items()]
    for name, filename, data, content_type in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
                     + filename.replace('"', "%22").encode() + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def field_error(page: str) -> str:
    match = re.search(rf'<p class="field-error" id="f-{FIELD}-error"\s*>([^<]*)</p>', page)
    return match.group(1).strip() if match else ""


@pytest.mark.parametrize(("what", "filename", "data", "content_type", "words"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_a_hostile_upload_is_refused_by_its_field_and_nothing_is_kept(
        module_client: Any, place: Any, what: str, filename: str, data: bytes, content_type: str, words: str) -> None:
    files_before = stored_files()
    response, person = await apply_with(module_client, place, filename, data, content_type)
    assert response.status_code == 422, response.text[-1500:]
    message = field_error(response.text)
    assert words in message and CHINESE.search(message), message
    assert 'value="珠海市香洲区凤凰北路18号"' in response.text  # what was typed is kept
    held = await Material.select(Material.sha256, Material.content_type).where(
        Material.holder_person == person.id)
    assert [m["content_type"] for m in held] == ["application/pdf"]  # the sound proof only
    assert stored_files() - files_before <= {filestore.get_store().path(held[0]["sha256"])}
    assert not any(filestore.get_store().tmp_dir.iterdir())


async def test_an_oversize_upload_is_cut_off_and_refused(module_client: Any, place: Any, monkeypatch) -> None:
    monkeypatch.setenv("YIWANG_UPLOAD_MAX_MB", "1")
    storage.limits.cache_clear()
    try:
        files_before = stored_files()
        response, person = await apply_with(module_client, place, "big.png", png_bytes() + b"\0" * 1_200_000,
                                            "image/png")
    finally:
        monkeypatch.delenv("YIWANG_UPLOAD_MAX_MB")
        storage.limits.cache_clear()
    assert response.status_code == 422
    assert "文件超过1 MB" in field_error(response.text)
    assert await Material.count().where(Material.holder_person == person.id,
                                        Material.content_type == "image/png") == 0
    assert len(stored_files() - files_before) <= 1  # the proof, if it was new
    assert not any(filestore.get_store().tmp_dir.iterdir())


@pytest.mark.parametrize(("filename", "data", "content_type", "kept_as", "shown"), ACCEPTED,
                         ids=[repr(a[0][:40]) for a in ACCEPTED])
async def test_a_sound_file_under_a_hostile_name_is_kept_under_the_servers_name(
        module_client: Any, place: Any, filename: str, data: bytes, content_type: str, kept_as: str,
        shown: str | None) -> None:
    response, person = await apply_with(module_client, place, filename, data, content_type, action="draft")
    assert response.status_code == 303, field_error(response.text) or response.text[-1500:]
    material = await Material.select().where(Material.holder_person == person.id,
                                             Material.material_type.code == "ID_CARD").first()
    assert material["content_type"] == kept_as
    name = material["filename"]
    assert not re.search(r"[/\\\x00-\x1f]", name) and not name.startswith(".") and len(name) <= 120, name
    if shown is not None:
        assert name == shown
    path = filestore.get_store().path(material["sha256"])
    assert path.read_bytes() == data
    root = filestore.get_store().root
    assert all(re.fullmatch(r"[0-9a-f]{64}", p.name) for p in stored_files()), "a file not named by its hash"
    assert path.is_relative_to(root)

    served = await module_client.get(f"/me/materials/{material['id']}/file")
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"].split(";")[0] == kept_as
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in served.headers["cache-control"]
    extension = storage.extension_for(kept_as)
    assert served.headers["content-disposition"].startswith(f'inline; filename="material-{material["id"]}{extension}"')


# Multipart bodies no browser sends: the server cannot read them, so it answers 400 (in Chinese), keeping nothing.
UNREADABLE = [
    ("a line break injected into the file name", [(FIELD, "a.png\r\nContent-Type: text/html\r\n\r\n<script>",
                                                   png_bytes(), "image/png")], {}),
    ("a file name of 6000 bytes", [(FIELD, "长" * 2000 + ".pdf", PDF_BYTES, "application/pdf")], {}),
    ("a text part that is not UTF-8", [], {"address": "\udcff"}),
    # A part without a file name is text: after a file, its bad bytes once left that file open.
    ("a file, then a nameless part that is not UTF-8", [(FIELD, "a.png", png_bytes(), "image/png"),
                                                         ("file_proof", "", b"\xff\xfe\x00", "image/png")], {}),
]


@pytest.mark.parametrize(("what", "files", "extra"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
async def test_a_multipart_body_the_server_cannot_read_is_a_400(module_client: Any, place: Any, what: str,
                                                                 files: list, extra: dict) -> None:
    user, person = await factories.citizen()
    await sign_in(module_client, user.id)
    key = await apply_form(module_client)
    files_before = stored_files()
    fields = {**VALID_FORM, "key": key, "action": "submit", "_csrf_token": module_client.cookies.get("yw_csrf", ""),
              **extra}
    body, boundary = multipart(fields, files)
    response = await module_client.post(f"/services/{ITEM}/apply", content=body, follow_redirects=False,
                                     headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 400 and "请求无法处理" in response.text, response.status_code
    assert await Material.count().where(Material.holder_person == person.id) == 0
    assert stored_files() == files_before
