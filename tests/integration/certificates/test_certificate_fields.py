"""Certificate types' own field mappings and layouts: validated with the catalogue, read at issue time, printed."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from app.catalog.schema import CatalogueErrors
from app.catalog.services import as_json, export_catalogue, import_catalogue
from app.catalog.tables import CertificateType
from app.certificates import pdf as certificate_pdf
from app.certificates.services import certificate_html
from app.certificates.tables import Certificate
from app.demo import seed_departments
from app.filestore import get_store
from app.i18n import _, fmt_date
from tests.catalog_fixture import catalogue
from tests.filing_fixture import VALID_FORM, hall
from tests.integration.certificates.test_certificates import approved_certificate

pytestmark = pytest.mark.anyio

MAPPING = [
    {"label": "迁入地址", "source": "form.address"},
    {"label": "迁移原因", "source": "form.reason"},
    {"label": "统一社会信用代码", "source": "holder.uscc"},  # a person has none: left out
    {"label": "性别", "source": "holder.sex"},
    {"label": "出生日期", "source": "holder.birth_date"},
    {"label": "受理编号", "source": "case.case_no"},
]


def flat(pdf: bytes) -> str:
    return re.sub(r"\s", "", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())


async def test_a_mapped_type_prints_its_fields_in_order(client) -> None:
    h = await hall(certificate=True)
    doc = await export_catalogue()
    next(t for t in doc["certificate_types"] if t["code"] == "MIGRATION_CERT_E")["fields"] = MAPPING
    await import_catalogue(doc)
    assert await export_catalogue() == doc  # the mapping round-trips

    cert = await approved_certificate(client, h)
    case_no = (await Certificate.select(Certificate.case.case_no.as_alias("case_no")).where(
        Certificate.id == cert["id"]).first())["case_no"]
    expected = [
        [_("ID number"), h.person.id_number],
        ["迁入地址", VALID_FORM["address"]],
        ["迁移原因", VALID_FORM["reason"]],
        ["性别", _("Male") if h.person.sex == "M" else _("Female")],
        ["出生日期", fmt_date(h.person.birth_date)],
        ["受理编号", case_no],
    ]
    assert as_json(cert["fields"]) == expected
    assert "13812345678" not in str(cert["fields"])  # the contact mobile stays off

    data = get_store().get(cert["pdf_sha256"])
    assert len(data) < 300_000
    text = flat(data)
    positions = [text.index(re.sub(r"\s", "", label + value)) for label, value in expected]
    assert positions == sorted(positions)
    assert VALID_FORM["mobile"] not in text


async def test_a_bad_mapping_is_reported_where_it_is_and_nothing_changes(db) -> None:
    await seed_departments()
    doc = catalogue()
    item = next(i for i in doc["items"] if i["code"] == "440400-SC-001")
    item["form"] = [
        {"key": "company_name", "label": "企业名称", "type": "text", "required": True},
        {"key": "contact_mobile", "label": "联系人手机", "type": "mobile", "required": True},
    ]
    doc["certificate_types"][0]["fields"] = [
        {"label": "名称", "source": "form.company_name"},
        {"label": "法定代表人", "source": "form.legal_rep"},
        {"label": "联系电话", "source": "form.contact_mobile"},
        {"label": "电话", "source": "holder.mobile"},
        {"label": "", "source": "case.case_no"},
        {"label": "编号", "source": "registry.uscc"},
    ]
    with pytest.raises(CatalogueErrors) as info:
        await import_catalogue(doc)
    errors = "\n".join(info.value.errors)
    where = "certificate_types[0].fields"
    assert f"{where}[1].source: no item issuing 'BUSINESS_LICENSE_CERT' has a form field 'legal_rep'" in errors
    assert f"{where}[2].source: 'form.contact_mobile' is a contact detail" in errors
    assert f"{where}[3].source: 'holder.mobile': the holder has no printable field 'mobile'" in errors
    assert f"{where}[4].label: length must be 1 to 30, is 0" in errors
    assert f"{where}[5].source: 'registry.uscc' does not match" in errors
    assert f"{where}[0]" not in errors and len(info.value.errors) == 5
    assert await CertificateType.count() == 0


DEPARTMENT = {"name": "珠海市市场监督管理局", "code": "ZH-MARKET"}


@pytest.mark.parametrize(("code", "name", "fields", "holder_label"), [
    ("BUSINESS_LICENSE_CERT", "营业执照", [
        ["统一社会信用代码", "91440400MA4W2X7K3N"], ["类型", "有限责任公司"], ["法定代表人", "陈志明"],
        ["注册资本", "500万元"], ["成立日期", "2017年6月8日"], ["住所", "广东省珠海市香洲区港湾大道科技五路8号"],
        ["经营范围", "软件开发；信息系统集成服务。" * 20]], "Business name"),
    ("MARRIAGE_CERT_E", "结婚证", [
        ["公民身份号码", "440402199205061234"], ["性别", "男"], ["配偶姓名", "林晓雯"]], "Holder name"),
])
def test_own_layouts_print_every_fact_on_one_small_page(code, name, fields, holder_label) -> None:
    cert = {"cert_no": "4404022024009000123", "holder_name": "珠海市海韵软件科技有限公司",
            "issued_on": date(2024, 3, 1), "valid_until": None, "fields": fields}
    html = certificate_html(cert, {"code": code, "name": name}, DEPARTMENT)
    assert f"css/certificate-{code.lower()}.css" in html
    out = certificate_pdf.render_pdf(html)
    assert len(out) < 250_000 and len(PdfReader(io.BytesIO(out)).pages) == 1
    text = flat(out)
    assert re.sub(r"\s", "", name) in text and cert["holder_name"] in text and cert["cert_no"] in text
    for label, value in fields:
        assert value[:20] in text, label
    assert re.sub(r"\s", "", _(holder_label)) in text
