"""The apply form built from an item's form schema: prefilling from the registry and the last filing,
and validating each field the way the schema says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.errors import DomainError
from app.i18n import _
from app.registry.validators import check_id_number, check_mobile, check_uscc

DEFAULT_MAX_LENGTH = {"text": 100, "textarea": 2000, "number": 20, "date": 10, "select": 60,
                      "id_number": 18, "uscc": 18, "mobile": 11}


@dataclass(frozen=True)
class Holder:
    """Whose page a filing belongs to: a person (dict of the registry row) or an enterprise."""

    person: dict[str, Any] | None = None
    entity: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        if self.entity is not None:
            return str(self.entity["name"])
        return str(self.person["name"]) if self.person else ""


def registry_value(source: str, holder: Holder) -> str | None:
    """The registry's value for a prefill source such as `person.name` or `entity.legal_rep_name`."""
    table, _, column = source.partition(".")
    row = holder.person if table == "person" else holder.entity
    if row is None or column not in row or row[column] is None:
        return None
    value = row[column]
    if column == "sex":
        return _("Male") if value == "M" else _("Female")
    return value.isoformat() if isinstance(value, date) else str(value)


def prefill(form: list[dict[str, Any]], holder: Holder, last: dict[str, str] | None) -> tuple[dict[str, str],
                                                                                                 dict[str, str]]:
    """Values for an empty form, and where each came from ("registry" or "last_case")."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for field in form:
        key = field["key"]
        if field.get("prefill"):
            value = registry_value(field["prefill"], holder)
            if value:
                values[key], sources[key] = value, "registry"
                continue
        if last and last.get(key):
            values[key], sources[key] = last[key], "last_case"
    return values, sources


def validate_field(field: dict[str, Any], raw: str) -> str:
    """The cleaned value, or DomainError keyed by the field. Empty optional fields are fine."""
    key, kind = field["key"], field["type"]
    value = raw.strip()
    if not value:
        if field.get("required"):
            raise DomainError(_("Please fill in %(label)s.", label=field["label"]), key)
        return ""
    limit = field.get("max_length") or DEFAULT_MAX_LENGTH.get(kind, 100)
    if len(value) > limit:
        raise DomainError(_("%(label)s can be at most %(num)d characters.", label=field["label"], num=limit), key)
    if kind == "id_number":
        return check_id_number(value, key)
    if kind == "uscc":
        return check_uscc(value, key)
    if kind == "mobile":
        return check_mobile(value, key)
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise DomainError(_("%(label)s must be a number.", label=field["label"]), key) from None
        if number < 0:
            raise DomainError(_("%(label)s cannot be negative.", label=field["label"]), key)
        return value
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise DomainError(_("%(label)s must be a date like 2026-11-24.", label=field["label"]), key) from None
        return value
    if kind == "select" and value not in field.get("options", []):
        raise DomainError(_("Please choose one of the options for %(label)s.", label=field["label"]), key)
    return value


def validate_form(form: list[dict[str, Any]], data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Every field at once: (cleaned values, errors by field)."""
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in form:
        try:
            cleaned[field["key"]] = validate_field(field, data.get(field["key"], ""))
        except DomainError as exc:
            errors.update(exc.errors)
            cleaned[field["key"]] = data.get(field["key"], "").strip()
    return cleaned, errors
