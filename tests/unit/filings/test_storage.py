"""Uploaded materials: checked by content, stored once under their SHA-256, nothing kept when refused."""

from __future__ import annotations

import hashlib
import io
import random
import stat
from pathlib import Path

import pytest
from litestar.datastructures import UploadFile
from PIL import Image

from app.filestore import LocalStore, get_store
from app.filings import storage
from app.filings.storage import StoredFile, UploadRejected
from app.i18n import _
from app.settings import get_settings
from tests.filing_fixture import png_claiming

pytestmark = pytest.mark.anyio

_OPEN: list[UploadFile] = []  # closed after each test: an UploadFile holds a temporary file

WRONG_TYPE = _("Only PDF, JPEG or PNG files are accepted.")
TOO_LARGE_IMAGE = _("The image is too large (more than %(mp)d million pixels).", mp=40)
DAMAGED_IMAGE = _("The image file is damaged or incomplete.")
DAMAGED_PDF = _("The PDF file is damaged or incomplete.")


@pytest.fixture(autouse=True)
def materials(tmp_path, monkeypatch) -> Path:
    """A materials directory of the test's own on the local store, with the default size limit."""
    root = tmp_path / "materials"
    monkeypatch.setenv("YIWANG_MATERIALS_DIR", str(root))
    monkeypatch.delenv("YIWANG_UPLOAD_MAX_MB", raising=False)
    forget_settings()
    yield root
    while _OPEN:
        _OPEN.pop().file.close()
    monkeypatch.undo()
    forget_settings()


def forget_settings() -> None:
    get_settings.cache_clear()
    get_store.cache_clear()
    storage.limits.cache_clear()


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_dir()] if root.exists() else []


def upload(data: bytes, filename: str = "材料.bin", content_type: str = "application/octet-stream") -> UploadFile:
    _OPEN.append(UploadFile(content_type=content_type, filename=filename, file_data=data))
    return _OPEN[-1]


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    image = Image.effect_noise(size, 60).convert("RGB")  # noise: the entropy-coded data spans the whole file
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


def pdf_bytes(extra: bytes = b"") -> bytes:
    """A minimal valid PDF: catalogue, page tree, one empty page, an xref with true offsets, trailer, %%EOF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + extra)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def assert_rejected(data: bytes, message: str | None = None, *, materials: Path, **kwargs: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        await storage.store_upload(upload(data, **kwargs), "file_id_card")
    assert list(caught.value.errors) == ["file_id_card"]
    if message is not None:
        assert caught.value.errors["file_id_card"] == message
    assert files_under(materials) == []


# --- accepted --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "content_type", "extension"),
    [(png_bytes, "image/png", ".png"), (jpeg_bytes, "image/jpeg", ".jpg"), (pdf_bytes, "application/pdf", ".pdf")],
)
async def test_a_sound_file_is_stored_under_its_sha256(materials, make, content_type, extension) -> None:
    data = make()
    # The client's name and type are ignored: the type comes from the content.
    stored = await storage.store_upload(upload(data, filename="身份证.dat", content_type="text/html"), "file_x")

    sha = hashlib.sha256(data).hexdigest()
    assert stored == StoredFile(sha256=sha, size=len(data), content_type=content_type, filename="身份证.dat")
    path = materials / sha[:2] / sha[2:4] / sha
    assert get_store().path(sha) == path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert files_under(materials) == [path]  # nothing left in tmp
    assert storage.extension_for(stored.content_type) == extension


async def test_the_same_bytes_twice_are_stored_once(materials) -> None:
    data = png_bytes()
    first = await storage.store_upload(upload(data, filename="a.png"), "file_a")
    second = await storage.store_upload(upload(data, filename="b.png"), "file_b")
    assert first.sha256 == second.sha256
    assert (first.filename, second.filename) == ("a.png", "b.png")
    assert files_under(materials) == [get_store().path(first.sha256)]


async def test_a_file_of_exactly_the_limit_is_accepted(materials, monkeypatch) -> None:
    monkeypatch.setenv("YIWANG_UPLOAD_MAX_MB", "1")
    storage.limits.cache_clear()
    data = pdf_bytes()
    data = data[:9] + b"%" + b"x" * (1_000_000 - len(data) - 2) + b"\n" + data[9:]  # a comment line pads it
    assert len(data) == 1_000_000
    stored = await storage.store_upload(upload(data), "file_x")
    assert stored.size == 1_000_000


async def test_a_multi_picture_jpeg_from_a_camera_is_accepted(materials) -> None:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (32, 24), colour) for colour in ("red", "blue")]
    frames[0].save(buffer, format="MPO", save_all=True, append_images=frames[1:])
    stored = await storage.store_upload(upload(buffer.getvalue()), "file_x")
    assert stored.content_type == "image/jpeg"


# --- refused ---------------------------------------------------------------------------------------------


async def test_a_file_over_the_limit_is_refused_and_nothing_kept(materials, monkeypatch) -> None:
    monkeypatch.setenv("YIWANG_UPLOAD_MAX_MB", "1")
    storage.limits.cache_clear()
    data = pdf_bytes()
    data = data[:9] + b"%" + b"x" * 1_000_000 + b"\n" + data[9:]
    await assert_rejected(data, _("The file is larger than %(mb)d MB.", mb=1), materials=materials)
    assert (materials / "tmp").is_dir()


async def test_an_oversized_stream_is_cut_off_as_soon_as_it_passes_the_limit(materials, monkeypatch) -> None:
    monkeypatch.setenv("YIWANG_UPLOAD_MAX_MB", "1")
    storage.limits.cache_clear()

    class Endless:
        filename = "big.pdf"
        content_type = "application/pdf"
        reads = 0

        async def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return b"%PDF-1.4\n" + b"0" * (size - 9)

    endless = Endless()
    with pytest.raises(UploadRejected):
        await storage.store_upload(endless, "file_x")
    assert endless.reads == 1_000_000 // storage.CHUNK + 1
    assert files_under(materials) == []


async def test_an_empty_file_is_refused(materials) -> None:
    await assert_rejected(b"", _("The file is empty."), materials=materials)


async def test_html_renamed_to_pdf_is_refused(materials) -> None:
    page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    await assert_rejected(page, WRONG_TYPE, materials=materials, filename="证明.pdf", content_type="application/pdf")


async def test_a_pdf_header_in_front_of_html_is_refused(materials) -> None:
    # A complete PDF otherwise, so only the HTML in its first KiB refuses it.
    polyglot = pdf_bytes(extra=b"<HTML><script>alert(1)</script>\n")
    await assert_rejected(polyglot, WRONG_TYPE, materials=materials)
    await assert_rejected(b"%PDF-1.4\n<html><script>alert(1)</script>\n%%EOF\n", WRONG_TYPE, materials=materials)


async def test_a_pdf_without_its_end_or_with_a_bad_version_is_refused(materials) -> None:
    whole = pdf_bytes()
    await assert_rejected(whole[: len(whole) // 2], DAMAGED_PDF, materials=materials)
    await assert_rejected(b"%PDF-9." + whole[7:], DAMAGED_PDF, materials=materials)
    # %%EOF far from the end is not the end of a complete file.
    await assert_rejected(whole + b"\n" + b"0" * 2048, DAMAGED_PDF, materials=materials)


@pytest.mark.parametrize(
    "data",
    [
        gif_bytes(),
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run",
        b"\x00" + random.Random(7).randbytes(4096),
        b"%PDF",  # too short to be anything
        b"PK\x03\x04" + b"\x00" * 100,  # a zip (or docx)
    ],
    ids=["gif", "exe", "random", "short", "zip"],
)
async def test_other_types_are_refused(materials, data) -> None:
    await assert_rejected(data, WRONG_TYPE, materials=materials, filename="a.png", content_type="image/png")


async def test_a_truncated_png_is_refused(materials) -> None:
    data = png_bytes((200, 200))
    await assert_rejected(data[: len(data) - 30], DAMAGED_IMAGE, materials=materials)


async def test_a_png_with_a_bad_crc_is_refused(materials) -> None:
    data = bytearray(png_bytes())
    data[-20] ^= 0xFF  # inside the IDAT chunk
    await assert_rejected(bytes(data), DAMAGED_IMAGE, materials=materials)


async def test_a_truncated_jpeg_is_refused(materials) -> None:
    data = jpeg_bytes((400, 300))
    await assert_rejected(data[: len(data) // 2], DAMAGED_IMAGE, materials=materials)


async def test_a_png_header_alone_does_not_make_an_image(materials) -> None:
    await assert_rejected(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, DAMAGED_IMAGE, materials=materials)


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (7_000, 7_000), (40_000_001, 1)])
async def test_a_pixel_flood_png_is_refused_from_its_header(materials, monkeypatch, width, height) -> None:
    def no_decoding(*args, **kwargs):
        raise AssertionError("the pixels must not be decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "verify", no_decoding)
    await assert_rejected(png_claiming(width, height), TOO_LARGE_IMAGE, materials=materials)


async def test_an_image_of_exactly_the_pixel_limit_is_accepted(materials) -> None:
    buffer = io.BytesIO()
    Image.new("1", (8_000, 5_000)).save(buffer, format="PNG")  # 1 bit a pixel: 5 MB in memory
    stored = await storage.store_upload(upload(buffer.getvalue()), "file_x")
    assert stored.content_type == "image/png"


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\x.pdf", "/abs/../../x"])
async def test_the_clients_filename_never_reaches_the_path(materials, name) -> None:
    data = pdf_bytes()
    stored = await storage.store_upload(upload(data, filename=name), "file_x")
    sha = hashlib.sha256(data).hexdigest()
    assert files_under(materials) == [materials / sha[:2] / sha[2:4] / sha]
    assert "/" not in stored.filename and "\\" not in stored.filename and not stored.filename.startswith(".")
    assert stored.filename == {"../../etc/passwd": "passwd", "..\\x.pdf": "x.pdf", "/abs/../../x": "x"}[name]


# --- helpers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("身份证 正面.jpg", "身份证 正面.jpg"),
        ("C:\\Users\\张三\\Desktop\\户口本.pdf", "户口本.pdf"),
        ("..", "材料"),
        (".htaccess", "htaccess"),
        ("  ...hidden.png", "hidden.png"),
        ("a\x00b\r\n\x1b[31mc\x7f.pdf", "ab[31mc.pdf"),
        ("evil\u202egpj.exe", "evilgpj.exe"),  # no right-to-left override
        ("", "材料"),
        (None, "材料"),
        ("dir/", "材料"),
        ("长" * 300 + ".pdf", "长" * 120),
    ],
)
def test_display_name(name, shown) -> None:
    assert storage.display_name(name) == shown


def test_sniff_by_magic_bytes_only() -> None:
    assert storage.sniff(b"%PDF-1.7\n") == "application/pdf"
    assert storage.sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert storage.sniff(b"\x89PNG\r\n\x1a\n\x00") == "image/png"
    for head in (b"", b"GIF89a", b"MZ\x90\x00", b"<html>", b" %PDF-1.4", b"\x89PNG"):
        assert storage.sniff(head) is None


def test_a_stored_file_is_named_only_by_a_sha256(materials) -> None:
    store = LocalStore(materials)
    sha = "ab" * 32
    assert store.path(sha) == materials / "ab" / "ab" / sha
    for bad in ["AB" * 32, "ab" * 31, "ab" * 32 + "\n", "../" + "a" * 61, "g" * 64, "", "ab" * 33]:
        for method in (store.path, store.get, store.exists, store.open):
            with pytest.raises(ValueError):
                method(bad)
        with pytest.raises(ValueError):
            store.put(bad, b"data")
    assert files_under(materials) == []


def test_extension_for() -> None:
    assert storage.extension_for("application/pdf") == ".pdf"
    assert storage.extension_for("image/jpeg") == ".jpg"
    assert storage.extension_for("image/png") == ".png"
    assert storage.extension_for("text/html") == ""


async def test_is_empty_spots_an_unchosen_file_input() -> None:
    assert storage.is_empty(None)
    assert storage.is_empty(upload(b"", filename=""))
    assert storage.is_empty(upload(b"", filename="chosen-but-empty.pdf"))
    chosen = upload(pdf_bytes(), filename="a.pdf")
    assert not storage.is_empty(chosen)
    assert (await chosen.read(5)) == b"%PDF-"  # looking did not move the read position
    assert not storage.is_empty(chosen)
    assert (await chosen.read(3)) == b"1.4"


def test_limits_and_the_folder_come_from_the_environment(materials, monkeypatch) -> None:
    assert storage.limits() == storage.Limits(max_bytes=20_000_000)
    assert get_store().root == materials.resolve()
    monkeypatch.setenv("YIWANG_UPLOAD_MAX_MB", "5")
    assert storage.limits().max_bytes == 20_000_000  # cached until cleared
    storage.limits.cache_clear()
    assert storage.limits().max_bytes == 5_000_000
    assert storage.limits().max_mb == 5
    monkeypatch.delenv("YIWANG_MATERIALS_DIR")
    forget_settings()
    assert get_store().root == (get_settings().var_dir / "materials").resolve()
