"""The elderly-friendly mode (适老化): larger type and stronger contrast, kept in a cookie that the header's toggle
sets; every page reads it when it renders, so it works with JavaScript off."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.response import Redirect

from app.settings import get_settings
from app.web.forms import safe_next

ELDERLY_COOKIE = "yw_elderly"
ELDERLY_MAX_AGE = 365 * 24 * 3600  # a preference, not a session: it outlives logging out
MAX_PATH = 2000


def elderly_mode(request: Request[Any, Any, Any]) -> bool:
    return request.cookies.get(ELDERLY_COOKIE) == "1"


def return_path(request: Request[Any, Any, Any]) -> str:
    """The page to come back to after toggling: this one, or, for a page a form post rendered (a form with its
    errors), the page the form was on, which a GET can reach."""
    if request.method == "GET":
        url = urlsplit(str(request.url))
    else:
        url = urlsplit(request.headers.get("referer", ""))
        if url.netloc != request.url.netloc:
            return "/"
    path = url.path + (f"?{url.query}" if url.query else "")
    return path if len(path) <= MAX_PATH else url.path[:MAX_PATH]


def set_elderly_mode(on: bool, back_to: str) -> Redirect:
    """A 303 back to the page (a local path only), carrying the mode's cookie or its removal."""
    response = Redirect(safe_next(back_to, "/"), status_code=303)
    if on:
        response.set_cookie(ELDERLY_COOKIE, "1", path="/", max_age=ELDERLY_MAX_AGE, httponly=True, samesite="lax",
                            secure=get_settings().secure_cookies)
    else:
        response.delete_cookie(ELDERLY_COOKIE, path="/")
    return response
