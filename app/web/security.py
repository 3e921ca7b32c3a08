"""Security headers on every response, CSRF settings, and the flash cookie's clean-up."""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
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


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook, so it also covers responses no route produced (router 404s, errors)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if not scope["path"].startswith("/static/") and "cache-control" not in headers:
        # Personal data must never sit in a shared or browser cache, unless a route chose otherwise.
        headers["Cache-Control"] = "no-store"
    # Once a page has shown the flash message, expire its cookie (unless this response sets a new one).
    request_cookies = MutableScopeHeaders(scope).get("cookie", "")
    sets_flash = any(c.startswith(f"{FLASH_COOKIE}=") for c in headers.getall("set-cookie", []))
    if f"{FLASH_COOKIE}=" in request_cookies and message["status"] < 300 and not sets_flash:
        headers.add("set-cookie", f"{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
