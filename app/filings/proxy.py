"""Proxy filing (代办): a village proxy agent files for a resident who cannot use the internet. The resident
consents with a one-time code sent to their registered mobile and read back to the agent, or by a signed
consent form the agent uploads."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from app.accounts.sessions import CurrentUser
from app.audit.services import record
from app.db import utcnow, write_tx
from app.errors import DomainError, FieldErrors
from app.filings.storage import StoredFile
from app.filings.tables import ProxyConsent
from app.i18n import _
from app.notify.services import notify
from app.registry.tables import Person
from app.registry.validators import check_id_number, mask_mobile

CODE_MINUTES = 10
MAX_CODE_ATTEMPTS = 5


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def _resident(id_number: str, name: str) -> dict[str, Any]:
    errors = FieldErrors()
    number = errors.check(check_id_number, id_number, "id_number")
    if not name.strip():
        errors.add("name", _("Please enter the resident's name."))
    errors.raise_if_any()
    person = await Person.select().where(Person.id_number == number).first()
    if person is None or person["name"] != name.strip():
        raise DomainError(_("No resident with this ID number and name is in the population registry."), "id_number")
    return person


async def send_consent_code(agent: CurrentUser, id_number: str, name: str, *, ip: str) -> dict[str, Any]:
    """Text a six-digit code to the resident's registered mobile; the resident reads it to the agent."""
    person = await _resident(id_number, name)
    if not person["mobile"]:
        raise DomainError(_("The resident has no mobile number on record: upload a signed consent form instead."),
                          "id_number")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    now = utcnow()
    async with write_tx():
        consent_id = (await ProxyConsent.insert(ProxyConsent(
            agent=agent.id, person=person["id"], method="sms_code", code_hash=_hash(code), created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES))).returning(ProxyConsent.id))[0]["id"]
        await notify(None, _("Consent code for proxy filing"),
                     _("%(agent)s of the service centre asks to file on your behalf. Your consent code is %(code)s, "
                       "valid for %(minutes)d minutes. Give it only if you agree.", agent=agent.display_name,
                       code=code, minutes=CODE_MINUTES), sms_to=person["mobile"])
        await record("proxy.code_sent", actor_id=agent.id, subject_type="person", subject_key=str(person["id"]),
                     ip=ip, consent=consent_id)
    return {"id": consent_id, "name": person["name"], "mobile": mask_mobile(person["mobile"])}


async def confirm_consent_code(agent: CurrentUser, consent_id: int, code: str, *, ip: str) -> dict[str, Any]:
    consent = await ProxyConsent.select().where(ProxyConsent.id == consent_id, ProxyConsent.agent == agent.id,
                                                ProxyConsent.method == "sms_code").first()
    if consent is None or consent["confirmed_at"] is not None:
        raise DomainError(_("Please send a new code."), "code")
    now = utcnow()
    if consent["expires_at"] < now or consent["attempts"] >= MAX_CODE_ATTEMPTS:
        raise DomainError(_("The code has expired. Please send a new code."), "code")
    good = hmac.compare_digest(consent["code_hash"], _hash(code.strip()))
    async with write_tx():
        if good:
            await ProxyConsent.update({ProxyConsent.confirmed_at: now}).where(ProxyConsent.id == consent_id)
        else:
            await ProxyConsent.update({ProxyConsent.attempts: ProxyConsent.attempts + 1}).where(
                ProxyConsent.id == consent_id)
        await record("proxy.consent", outcome="ok" if good else "failed", actor_id=agent.id, subject_type="person",
                     subject_key=str(consent["person"]), ip=ip, consent=consent_id, method="sms_code")
    if not good:
        raise DomainError(_("The code is not right."), "code")
    return consent


async def consent_by_form(agent: CurrentUser, id_number: str, name: str, stored: StoredFile, *,
                          ip: str) -> int:
    """A signed consent form, scanned and uploaded by the agent, stands for the code."""
    person = await _resident(id_number, name)
    now = utcnow()
    async with write_tx():
        consent_id = (await ProxyConsent.insert(ProxyConsent(
            agent=agent.id, person=person["id"], method="signed_form", form_sha256=stored.sha256, created_at=now,
            expires_at=now + timedelta(hours=24), confirmed_at=now)).returning(ProxyConsent.id))[0]["id"]
        await record("proxy.consent", actor_id=agent.id, subject_type="person", subject_key=str(person["id"]), ip=ip,
                     consent=consent_id, method="signed_form", sha256=stored.sha256)
    return int(consent_id)


async def open_consents(agent: CurrentUser) -> list[dict[str, Any]]:
    """Confirmed consents not yet used for a filing: the residents the agent may file for now."""
    since = utcnow() - timedelta(hours=24)
    return await ProxyConsent.select(ProxyConsent.id, ProxyConsent.method, ProxyConsent.created_at,
                                     ProxyConsent.person.name.as_alias("name")).where(
        ProxyConsent.agent == agent.id, ProxyConsent.confirmed_at.is_not_null(), ProxyConsent.used_at.is_null(),
        ProxyConsent.created_at >= since).order_by(ProxyConsent.id, ascending=False)
