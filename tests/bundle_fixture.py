"""A small bundle for tests: 户口迁移 issues a certificate that 户籍证明开具 needs, so the second starts when the
first is approved; 失业登记 (another department) runs beside them from the start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.accounts.tables import User
from app.bundles.tables import Bundle
from app.catalog.services import import_catalogue
from app.db import utcnow
from app.registry.tables import Department
from tests import factories
from tests.catalog_fixture import catalogue
from tests.filing_fixture import FORM, ITEM, MATERIALS, PDF_BYTES, REUSE_ITEM, Hall, hall, png_bytes

BUNDLE = "440400-TEST-BUNDLE"
SIDE_ITEM = "440400-RS-002"
SIDE_FORM = [next(f for f in FORM if f["key"] == "mobile"),
             {"key": "last_employer", "label": "原工作单位", "type": "text", "required": True, "prefill": None,
              "max_length": 60}]
VALUES = {"name": "陈小明", "mobile": "13812345678", "reason": "购房落户", "address": "珠海市香洲区凤凰北路18号",
          "last_employer": "珠海市某某有限公司"}


@dataclass
class BundleHall:
    h: Hall
    hrss_reviewer: User
    hrss_approver: User


async def bundle_hall(*, on_failure: str = "continue", fee: int = 0) -> BundleHall:
    h = await hall(certificate=True)
    doc = catalogue()
    doc["material_types"].append({"code": "MIGRATION_CERT", "name": "户口迁移证明"})
    doc["certificate_types"].append({"code": "MIGRATION_CERT_E", "name": "户口迁移证明",
                                     "material": "MIGRATION_CERT", "validity_years": 5})
    for item in doc["items"]:
        if item["code"] == ITEM:
            item.update(form=FORM, materials=MATERIALS, certificate="MIGRATION_CERT_E")
        elif item["code"] == REUSE_ITEM:
            item.update(form=[], situations=[], materials=[
                {"key": "migration", "material": "MIGRATION_CERT", "form": "原件", "copies": 1, "required": True,
                 "base": True, "ecert": True, "note": ""}])
        elif item["code"] == SIDE_ITEM:
            item.update(form=SIDE_FORM)
    await import_catalogue(doc)
    await Bundle.insert(Bundle(
        code=BUNDLE, name="迁入落户一件事", audience="person", summary="户口迁入、开具户籍证明、失业登记，一次办。",
        members=[{"item": ITEM, "after": [], "fee": fee, "registers": None},
                 {"item": REUSE_ITEM, "after": [ITEM], "fee": 0, "registers": None},
                 {"item": SIDE_ITEM, "after": [], "fee": 0, "registers": None}],
        on_failure=on_failure, delivery=True, updated_at=utcnow()))
    hrss = await Department.objects().where(Department.code == "ZH-HRSS").first()
    return BundleHall(h=h, hrss_reviewer=await factories.officer(hrss, "reviewer"),
                      hrss_approver=await factories.officer(hrss, "approver"))


def files() -> dict[str, Any]:
    return {"file_id_card": ("身份证.png", png_bytes(), "image/png"),
            "file_housing_proof": ("证明.pdf", PDF_BYTES, "application/pdf")}
