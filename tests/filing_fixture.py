"""A small hall for filing tests: the real department tree, a catalogue with one item that has a form,
two materials and a situation, and the officers who handle it."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from PIL import Image

from app.accounts.tables import User
from app.catalog.services import import_catalogue
from app.demo import seed_departments
from app.registry.tables import Department, Person
from tests import factories
from tests.catalog_fixture import catalogue

ITEM = "440400-GA-002"
REUSE_ITEM = "440400-GA-003"  # with certificate=True: needs the 户口迁移证明 the first item issues
FORM = [
    {"key": "name", "label": "申请人姓名", "type": "text", "required": True, "prefill": "person.name",
     "max_length": 30},
    {"key": "id_number", "label": "公民身份号码", "type": "id_number", "required": True, "prefill": "person.id_number"},
    {"key": "mobile", "label": "联系电话", "type": "mobile", "required": True, "prefill": None},
    {"key": "reason", "label": "迁移原因", "type": "select", "required": True, "prefill": None,
     "options": ["投靠亲属", "购房落户", "人才引进"]},
    {"key": "address", "label": "迁入地址", "type": "text", "required": True, "prefill": None, "max_length": 100},
]
MATERIALS = [
    {"key": "id_card", "material": "ID_CARD", "form": "原件", "copies": 1, "required": True, "base": True,
     "ecert": True, "note": ""},
    {"key": "proof", "material": "HOUSING_PROOF", "form": "原件", "copies": 1, "required": True, "base": True,
     "ecert": False, "note": "购房合同、房产证或亲属关系证明"},
]
VALID_FORM = {"name": "陈小明", "mobile": "13812345678", "reason": "购房落户", "address": "珠海市香洲区凤凰北路18号"}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR (with a correct CRC) claims width×height; the pixel data is a few bytes (a decompression
    bomb if decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + png_chunk(b"IEND", b""))


def png_bytes(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
             b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
             b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n101\n%%EOF\n")


@dataclass
class Hall:
    citizen: User
    person: Person
    clerk: User
    reviewer: User
    approver: User
    other_reviewer: User
    police: Department
    hall: Department


async def hall(*, certificate: bool = False) -> Hall:
    """The police department, the hall's front desk, a citizen; the item issues 户口迁移证明 if `certificate`."""
    await seed_departments()
    doc = catalogue()
    item = next(i for i in doc["items"] if i["code"] == ITEM)
    item.update(form=FORM, materials=MATERIALS)
    if certificate:
        doc["material_types"].append({"code": "MIGRATION_CERT", "name": "户口迁移证明"})
        doc["certificate_types"].append({"code": "MIGRATION_CERT_E", "name": "户口迁移证明",
                                         "material": "MIGRATION_CERT", "validity_years": 5})
        item["certificate"] = "MIGRATION_CERT_E"
        second = next(i for i in doc["items"] if i["code"] == REUSE_ITEM)
        second.update(form=[], situations=[], materials=[
            {"key": "migration", "material": "MIGRATION_CERT", "form": "原件", "copies": 1, "required": True,
             "base": True, "ecert": True, "note": ""}])
    await import_catalogue(doc)
    departments = {d.code: d for d in await Department.objects().where(
        Department.code.is_in(["ZH-POLICE", "ZH-HALL", "ZH-MARKET"]))}
    user, person = await factories.citizen()
    return Hall(
        citizen=user, person=person,
        clerk=await factories.officer(departments["ZH-HALL"], "clerk"),
        reviewer=await factories.officer(departments["ZH-POLICE"], "reviewer"),
        approver=await factories.officer(departments["ZH-POLICE"], "approver"),
        other_reviewer=await factories.officer(departments["ZH-MARKET"], "reviewer", "approver"),
        police=departments["ZH-POLICE"], hall=departments["ZH-HALL"],
    )


async def apply_form(client: Any, code: str = ITEM, query: str = "") -> str:
    """The idempotency key of the apply page's form."""
    page = await client.get(f"/services/{code}/apply{query}")
    assert page.status_code == 200, page.text
    marker = 'name="key" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start:page.text.index('"', start)]


async def submit(client: Any, key: str, *, form: dict[str, str] | None = None, files: dict[str, Any] | None = None,
                 action: str = "submit", code: str = ITEM, query: str = "") -> Any:
    data = {**(form if form is not None else VALID_FORM), "key": key, "action": action,
            "_csrf_token": client.cookies.get("yw_csrf", "")}
    return await client.post(f"/services/{code}/apply{query}", data=data, files=files or None,
                             follow_redirects=False)


def both_files() -> dict[str, Any]:
    return {"file_id_card": ("身份证.png", png_bytes(), "image/png"),
            "file_proof": ("证明.pdf", PDF_BYTES, "application/pdf")}
