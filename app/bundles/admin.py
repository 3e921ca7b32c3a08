"""Bundle administration: a bundle edited as its catalogue-file document, checked against the live catalogue."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio

from app.accounts.sessions import CurrentUser
from app.audit.services import record
from app.bundles.tables import Bundle
from app.catalog.schema import CatalogueErrors, validate_catalogue
from app.catalog.services import as_json, bundle_document, export_catalogue, upsert_bundles
from app.catalog.tables import ServiceItem
from app.db import utcnow, write_tx
from app.errors import DomainError, NotFound
from app.i18n import _
from app.registry.tables import Department

FIELD = "document"  # the textarea holding the bundle's JSON
MAX_DOCUMENT = 20_000  # characters; ten members with every key take about 2,000
# A new bundle starts from this: every key of the format, in file order, for the administrator to fill in.
TEMPLATE = bundle_document({
    "code": "", "name": "", "audience": "person", "summary": "", "life_events": [], "on_failure": "continue",
    "delivery": True, "status": "active", "members": [{"item": ""}, {"item": ""}],
})


class BundleRefused(DomainError):
    """The bundle broke catalogue rules: `problems` are the validator's, located inside the bundle
    (`members[1].after: dependency cycle: …`)."""

    status_code = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(_("The bundle was not saved: the catalogue rules refuse it. Correct the points below."),
                         FIELD)


def as_text(doc: dict[str, Any]) -> str:
    """The document as the catalogue export writes it."""
    return json.dumps(doc, ensure_ascii=False, indent=2)


async def bundles() -> list[dict[str, Any]]:
    """Every bundle, withdrawn ones too, by code."""
    rows = await Bundle.select(Bundle.code, Bundle.name, Bundle.audience, Bundle.status, Bundle.members).order_by(
        Bundle.code)
    for row in rows:
        row["member_count"] = len(as_json(row.pop("members")))
    return rows


async def current_document(code: str) -> dict[str, Any]:
    """The stored bundle exactly as the catalogue export writes it."""
    row = await Bundle.select().where(Bundle.code == code[:40]).first()
    if row is None:
        raise NotFound()
    return bundle_document(row)


async def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What an administrator reads beside the JSON: each member with its item's name, department and state."""
    codes = [m["item"] for m in doc["members"]]
    items = {r["code"]: r for r in await ServiceItem.select(
        ServiceItem.code, ServiceItem.name, ServiceItem.status,
        ServiceItem.department.name.as_alias("department_name"),
    ).where(ServiceItem.code.is_in(codes or [""]))}
    names = {code: items[code]["name"] if code in items else code for code in codes}
    members = [{**m, "name": names[m["item"]], "department": items.get(m["item"], {}).get("department_name", ""),
                "withdrawn": items.get(m["item"], {}).get("status") == "withdrawn",
                "after_names": [names.get(a, a) for a in m["after"]]} for m in doc["members"]]
    return {**doc, "members": members, "fee_total": sum(m["fee"] for m in doc["members"])}


def parse(text: str) -> dict[str, Any]:
    """The posted text as one JSON object, or a Chinese message saying where it breaks."""
    if len(text) > MAX_DOCUMENT:
        raise DomainError(_("The document is too long: at most %(max)s characters.", max=MAX_DOCUMENT), FIELD)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DomainError(_("This is not valid JSON: line %(line)s, column %(column)s (%(reason)s).",
                            line=exc.lineno, column=exc.colno, reason=exc.msg), FIELD) from None
    if not isinstance(doc, dict):
        raise DomainError(_("The document must be one JSON object, { … }, describing one bundle."), FIELD)
    return doc


async def check(doc: dict[str, Any], code: str | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Validate the bundle as part of the current catalogue with the import's own validator; return the stored
    bundle (None for a new one) and the new one with its defaults filled in. `code`: the bundle being edited."""
    given = doc.get("code")
    if code is not None and isinstance(given, str) and given != code:
        raise DomainError(_("The code in the document (%(given)s) differs from this bundle's code %(code)s. A "
                            "bundle's code cannot be changed; to make another bundle, start a new one.",
                            given=given, code=code), FIELD)
    catalogue = await export_catalogue()
    stored = catalogue["bundles"]
    index = next((i for i, b in enumerate(stored) if b["code"] == (code or given)), len(stored))
    if code is None and index < len(stored):
        raise DomainError(_("A bundle with the code %(code)s already exists; edit that one instead.", code=given),
                          FIELD)
    if code is not None and index == len(stored):
        raise NotFound()
    before = stored[index] if index < len(stored) else None
    catalogue["bundles"] = [*stored[:index], doc, *stored[index + 1:]]
    departments = set(await Department.select(Department.code).output(as_list=True))
    try:
        await anyio.to_thread.run_sync(validate_catalogue, catalogue, departments)
    except CatalogueErrors as exc:
        # Problems elsewhere in the catalogue are not this page's to fix; only the bundle's own refuse it.
        where = re.compile(rf"^bundles\[{index}\](?:\.|(?=:))")
        problems = [where.sub("", e) for e in exc.errors if where.match(e)]
        if problems:
            raise BundleRefused(problems) from None
    return before, bundle_document(doc)


async def save(user: CurrentUser, code: str | None, text: str, *, ip: str) -> str:
    """Create a bundle (code None) or replace the one with `code` from the posted document, in one transaction
    with its audit record; withdrawing is `"status": "withdrawn"`. Returns the bundle's code."""
    before, after = await check(parse(text), code)
    if after == before:
        raise DomainError(_("Nothing has changed compared with the saved bundle."), FIELD)
    changed = [k for k in after if before is None or after[k] != before[k]]
    async with write_tx():
        await upsert_bundles([after], utcnow())
        await record("catalog.bundle_saved", actor_id=user.id, subject_type="bundle", subject_key=after["code"],
                     ip=ip, created=before is None, fields=changed, status=after["status"])
    return str(after["code"])
