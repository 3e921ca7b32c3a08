"""Form plumbing: read a posted form as plain strings, keep what the user typed when it is refused, and turn a
form that cannot be decoded into the client's error."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.params import URLEncodedBody
from litestar.types import ASGIApp, Receive, Scope, Send

FormData = URLEncodedBody[dict[str, Any]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

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


class UnreadableFormMiddleware:
    """Reads a posted form before anything else does, so that one the server cannot decode (a text part that is
    not UTF-8, a charset nobody knows) is the client's error, a 400, wherever it would first be read (the CSRF
    check, a handler). The parsed form is kept on the request for them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            try:
                await Request(scope, receive).form()
            except (UnicodeDecodeError, LookupError) as exc:
                raise ClientException("the form could not be decoded") from exc
        await self.app(scope, receive, send)
