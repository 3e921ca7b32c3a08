"""Test rows built through the same tables the app uses; numbers are valid unless a test says otherwise."""

from __future__ import annotations

import itertools
from datetime import date
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from stdnum.cn import ric, uscc

from app.accounts.tables import OfficerRole, User
from app.db import utcnow
from app.lifelong.tables import EnterpriseMember
from app.registry.tables import Department, GuardianLink, LegalEntity, Person

PASSWORD = "Correct-Horse-9-Battery"
_seq = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


def id_number(birth: date = date(1985, 6, 15), region: str = "440402", male: bool = True) -> str:
    """A valid, unique resident ID number."""
    n = next(_seq)
    order = (n * 2 + (1 if male else 0)) % 1000
    birth = birth.replace(day=min(28, 1 + n % 28)) if n > 1 else birth
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(region: str = "440402") -> str:
    n = next(_seq)
    body = f"91{region}MA{n:06d}"
    org = body[8:16]
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    check = 11 - sum(alphabet.index(c) * w for c, w in zip(org, weights, strict=True)) % 11
    body = body + {10: "X", 11: "0"}.get(check, str(check))
    return body + uscc.calc_check_digit(body + "0")


async def person(*, name: str = "陈小明", birth: date = date(1985, 6, 15), male: bool = True, **kw: Any) -> Person:
    number = kw.pop("id_number", None) or id_number(birth, male=male)
    row = Person(
        id_number=number,
        name=name,
        sex="M" if male else "F",
        birth_date=ric.get_birth_date(number),
        region_code=number[:6],
        household_address=kw.pop("household_address", "广东省珠海市香洲区凤凰北路18号3栋502房"),
        ssc_number=kw.pop("ssc_number", f"A{next(_seq):08d}"),
        **kw,
    )
    await row.save()
    return row


async def user(
    *, mobile: str | None = None, person_row: Person | None = None, kind: str = "citizen", **kw: Any
) -> User:
    row = User(
        mobile=mobile or f"139{next(_seq):08d}",
        password_hash=password_hash(),
        display_name=person_row.name if person_row else "测试用户",
        kind=kind,
        person=person_row.id if person_row else None,
        created_at=utcnow(),
        activated_at=utcnow() if person_row else None,
        **kw,
    )
    await row.save()
    return row


async def citizen(**kw: Any) -> tuple[User, Person]:
    """An activated citizen: a registry person with a bound account."""
    p = await person(**kw)
    return await user(person_row=p), p


async def department(code: str = "ZH-MARKET", name: str = "珠海市市场监督管理局", kind: str = "market") -> Department:
    row = Department(code=code, name=name, short_name=name[-6:], kind=kind, level="city", region_code="440400",
                     region_name="广东省珠海市")
    await row.save()
    return row


async def officer(dept: Department, *roles: str, mobile: str | None = None) -> User:
    row = await user(mobile=mobile, kind="officer", department=dept.id)
    for role in roles:
        await OfficerRole(user=row.id, role=role).save()
    return row


async def entity(legal_rep: Person, *, name: str = "珠海市海韵科技有限公司") -> LegalEntity:
    row = LegalEntity(uscc=credit_code(), name=name, entity_type="有限责任公司", legal_rep=legal_rep.id,
                      address="广东省珠海市香洲区情侣中路88号", industry="软件和信息技术服务业",
                      registered_capital=1_000_000, established_on=date(2019, 3, 1), region_code="440402")
    await row.save()
    return row


async def member(ent: LegalEntity, u: User, role: str = "legal_rep", **kw: Any) -> EnterpriseMember:
    row = EnterpriseMember(entity=ent.id, user=u.id, role=role, created_at=utcnow(), **kw)
    await row.save()
    return row


async def guardian_of(guardian: Person, child: Person, relation: str = "父亲") -> None:
    await GuardianLink(guardian=guardian.id, child=child.id, relation=relation).save()


def csrf_headers(client: Any) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("yw_csrf", "")}


async def post(client: Any, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """A form post as a browser sends it: the CSRF token from the page (fetched first if needed)."""
    if not client.cookies.get("yw_csrf"):
        await client.get("/login")
    form = {**(data or {}), "_csrf_token": client.cookies.get("yw_csrf", "")}
    return await client.post(url, data=form, follow_redirects=False, **kw)


async def login(client: Any, mobile: str, password: str = PASSWORD) -> Any:
    response = await post(client, "/login", {"mobile": mobile, "password": password})
    assert response.status_code == 303, response.text
    return response
