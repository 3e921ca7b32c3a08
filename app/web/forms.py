"""Form plumbing: read a posted form as plain strings, and keep what the user typed when it is refused."""

from __future__ import annotations

from typing import Any

from litestar.params import URLEncodedBody

FormData = URLEncodedBody[dict[str, Any]]

# Never echoed back into a form after an error.
SECRET_FIELDS = frozenset({"password", "password_confirm", "_csrf_token"})


def text(data: dict[str, Any], name: str, max_length: int = 500) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()[:max_length]


def kept(data: dict[str, Any]) -> dict[str, str]:
    """The values to put back into the form after a refusal."""
    return {k: text(data, k) for k in data if k not in SECRET_FIELDS}


def safe_next(value: str | None, default: str = "/me") -> str:
    """Only local paths: `next=//evil.example` or `next=https://…` would make an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
