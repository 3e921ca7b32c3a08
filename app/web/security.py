"""Security headers on every response, CSRF settings, and the flash cookie's clean-up."""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.types import Message, Scope

from app.settings import get_settings

CSRF_COOKIE = "yw_csrf"
FLASH_COOKIE = "yw_flash"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def csrf_config() -> CSRFConfig:
    settings = get_settings()
    return CSRFConfig(
        secret=settings.secret(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.secure_cookies,
        # The token reaches forms and htmx through the page itself, so scripts never need the cookie.
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )


# Every response's fixed headers, as the raw pairs the ASGI message carries: no route sets any of them itself.
_FIXED_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
]
_NO_STORE = (b"cache-control", b"no-store")
_FLASH_SET = f"{FLASH_COOKIE}=".encode()
_FLASH_EXPIRED = (b"set-cookie", f"{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax".encode())


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook, so it also covers responses no route produced (router 404s, errors). It appends to the
    message's raw header list: on every response, the header wrappers cost more than the work."""
    if message["type"] != "http.response.start":
        return
    headers = message.setdefault("headers", [])
    if not isinstance(headers, list):
        headers = message["headers"] = list(headers)
    names = {name.lower() for name, _ in headers}
    headers.extend(_FIXED_HEADERS)
    if b"cache-control" not in names and not scope["path"].startswith("/static/"):
        # Personal data must never sit in a shared or browser cache, unless a route chose otherwise.
        headers.append(_NO_STORE)
    # Once a page has shown the flash message, expire its cookie (unless this response sets a new one).
    if message["status"] < 300 and any(name == b"cookie" and _FLASH_SET in value for name, value in scope["headers"]):
        sets_flash = any(name.lower() == b"set-cookie" and value.startswith(_FLASH_SET) for name, value in headers)
        if not sets_flash:
            headers.append(_FLASH_EXPIRED)
