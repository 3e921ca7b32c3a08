"""A small catalogue document for tests, in the file format; tests copy and break it as they need."""

from __future__ import annotations

import copy
from typing import Any


def _item(code: str, name: str, department: str, *, summary: str = "", audience: tuple[str, ...] = ("person",),
          events: tuple[str, ...] = (), visits: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "code": code, "name": name, "department": department, "kind": "公共服务", "audience": list(audience),
        "life_events": list(events), "summary": summary, "basis": "《测试条例》第一条",
        "conditions": "符合条件的申请人",
        "procedure": ["网上申请", "受理审查", "办结"], "legal_limit_days": 20, "promised_limit_days": 5,
        "visits": visits, "online_level": "全程网办", "fee": "不收费", "fee_basis": "", "place": "珠海市政务服务中心",
        "contact": "0756-12345", "hours": "周一至周五 9:00-17:00",
        "materials": [{"key": "id_card", "material": "ID_CARD", "form": "原件", "copies": 1, "required": True,
                       "base": True, "ecert": True, "note": ""}],
        "situations": [], "form": [], "certificate": None, **extra,
    }


BASE: dict[str, Any] = {
    "format": "yiwang-catalogue",
    "version": 1,
    "material_types": [
        {"code": "ID_CARD", "name": "居民身份证"},
        {"code": "POWER_OF_ATTORNEY", "name": "授权委托书"},
        {"code": "AGENT_ID_CARD", "name": "代理人身份证"},
        {"code": "BIRTH_MEDICAL_CERT", "name": "出生医学证明"},
        {"code": "BUSINESS_LICENSE", "name": "营业执照"},
        {"code": "RESOLUTION", "name": "股东会决议"},
        {"code": "HOUSING_PROOF", "name": "住房或亲属关系证明"},
    ],
    "certificate_types": [
        {"code": "BUSINESS_LICENSE_CERT", "name": "营业执照", "material": "BUSINESS_LICENSE", "validity_years": None},
    ],
    "synonyms": [
        {"term": "社保", "alternative": "社会保险"},
        {"term": "户口", "alternative": "户籍"},
        {"term": "执照", "alternative": "营业执照"},
    ],
    "items": [
        _item("440400-GA-001", "出生登记", "ZH-POLICE", summary="新生儿出生后办理户口登记。", events=("生育", "户籍"),
              visits=0,
              materials=[
                  {"key": "birth", "material": "BIRTH_MEDICAL_CERT", "form": "原件", "copies": 1, "required": True,
                   "base": True, "ecert": True, "note": ""},
                  {"key": "id_card", "material": "ID_CARD", "form": "原件", "copies": 1, "required": True,
                   "base": True, "ecert": True, "note": "父母双方"},
                  {"key": "poa", "material": "POWER_OF_ATTORNEY", "form": "原件", "copies": 1, "required": True,
                   "base": False, "ecert": False, "note": ""},
                  {"key": "agent_id", "material": "AGENT_ID_CARD", "form": "原件", "copies": 1, "required": True,
                   "base": False, "ecert": False, "note": ""},
              ],
              situations=[{"key": "agent", "question": "是否委托他人代办？", "answers": [
                  {"key": "self", "text": "本人办理", "add": [], "remove": []},
                  {"key": "agent", "text": "委托代办", "add": ["poa", "agent_id"], "remove": ["id_card"]},
              ]}]),
        _item("440400-GA-002", "户口迁移", "ZH-POLICE", summary="户籍迁入本市。", events=("户籍",)),
        _item("440400-GA-003", "户籍证明开具", "ZH-POLICE", summary="开具户籍证明。", events=("户籍",), visits=2),
        _item("440400-RS-001", "社会保险参保登记", "ZH-HRSS", summary="职工参加社会保险。", events=("就业", "社保"),
              audience=("person", "enterprise")),
        _item("440400-RS-002", "失业登记", "ZH-HRSS", summary="办理失业登记后可以享受社保补贴。", events=("就业",)),
        _item("440400-SC-001", "营业执照变更登记", "ZH-MARKET", summary="企业变更登记事项，换发营业执照。",
              audience=("enterprise",), events=("变更",), certificate="BUSINESS_LICENSE_CERT"),
        _item("440400-SC-002", "个体工商户设立登记", "ZH-MARKET", summary="领取个体工商户营业执照。",
              audience=("enterprise",), events=("开办",), certificate="BUSINESS_LICENSE_CERT"),
        _item("440400-WJ-001", "生育登记", "ZH-HEALTH", summary="夫妻生育子女的登记服务。", events=("生育",)),
    ],
}


def catalogue() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def _field(key: str, label: str, field_type: str = "text", **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": field_type, "required": True, "prefill": None, **extra}


BUNDLES: list[dict[str, Any]] = [
    {"code": "440400-YJS-CS", "name": "出生一件事", "audience": "person", "summary": "生育登记、出生登记、参保一次办。",
     "life_events": ["生育"], "on_failure": "continue", "delivery": True, "status": "active",
     "members": [
         {"item": "440400-WJ-001", "after": [], "fee": 0, "registers": None},
         {"item": "440400-GA-001", "after": ["440400-WJ-001"], "fee": 0, "registers": "child"},
         {"item": "440400-RS-001", "after": ["440400-GA-001"], "fee": 0, "registers": None},
     ]},
    {"code": "440400-YJS-BG", "name": "变更登记一件事", "audience": "enterprise", "summary": "",
     "life_events": ["变更"], "on_failure": "stop", "delivery": False, "status": "active",
     "members": [
         {"item": "440400-SC-001", "after": [], "fee": 20, "registers": None},
         {"item": "440400-RS-001", "after": ["440400-SC-001"], "fee": 0, "registers": None},
     ]},
]


def catalogue_with_bundles() -> dict[str, Any]:
    """The small catalogue with two bundles, whose members' forms share keys of the same type."""
    doc = catalogue()
    forms = {
        "440400-WJ-001": [_field("child_name", "子女姓名"), _field("birth_date", "出生日期", "date")],
        "440400-GA-001": [_field("child_name", "子女姓名"), _field("birth_date", "出生日期", "date"),
                          _field("child_sex", "子女性别", "select", options=["男", "女"])],
        "440400-RS-001": [_field("applicant_mobile", "联系电话", "mobile")],
        "440400-SC-001": [_field("company_name", "企业名称")],
    }
    for item in doc["items"]:
        item["form"] = forms.get(item["code"], item["form"])
    doc["bundles"] = copy.deepcopy(BUNDLES)
    return doc
