"""Form plumbing: read a posted form as plain strings, keep what the user typed when it is refused, and turn a
form that cannot be decoded into the client's error."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile
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
                for upload in _uploads_of_the_failed_parse(exc):
                    await upload.close()
                raise ClientException("the form could not be decoded") from exc
        await self.app(scope, receive, send)


def _uploads_of_the_failed_parse(exc: BaseException) -> list[UploadFile]:
    """The files Litestar's multipart parser had already opened when a text part failed to decode: it closes them
    only on its own parser errors (Litestar 2.25), so they are taken from its frame, left in the traceback."""
    found: list[UploadFile] = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "parse_multipart_form":
            local = tb.tb_frame.f_locals
            found += [v for values in local.get("fields", {}).values() for v in values if isinstance(v, UploadFile)]
            if isinstance(local.get("data"), UploadFile):
                found.append(local["data"])
        tb = tb.tb_next
    return found
