"""Error pages in Chinese for what users can run into: 401 → login, 403, 404, 422/429, 500."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.response import Redirect, Template

from app.errors import DomainError, Forbidden, NotFound
from app.i18n import N_, _
from app.web.flash import with_flash

logger = logging.getLogger("yiwang")

TITLES = {
    400: N_("The request could not be handled"),
    403: N_("You may not do this"),
    404: N_("Page not found"),
    405: N_("The request could not be handled"),
    409: N_("The case has changed"),
    413: N_("The upload is too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
}
EXPLANATIONS = {
    403: N_("Your account has no permission for this page or action. If you believe it should, contact the hall."),
    404: N_("The page does not exist, or it is not yours to see."),
    413: N_("Everything uploaded at once was too large. Please upload fewer or smaller files at a time."),
    429: N_("Please wait a moment and try again."),
    500: N_("The error has been recorded. Please try again later; nothing you submitted was half-saved."),
}


def error_page(request: Request[Any, Any, Any], status: int, message: str = "") -> Template:
    title = _(TITLES.get(status, TITLES[400]))
    explanation = message or (_(EXPLANATIONS[status]) if status in EXPLANATIONS else "")
    return Template(
        template_name="pages/errors/error.html",
        context={"status": status, "title": title, "explanation": explanation},
        status_code=status,
        media_type=MediaType.HTML,
    )


def not_authorized(request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    target = f"/login?next={quote(request.url.path)}"
    if request.headers.get("hx-request") == "true":
        return Response(content="", status_code=401, headers={"HX-Redirect": target})
    return with_flash(Redirect(target, status_code=303), "login_needed")


def forbidden(request: Request[Any, Any, Any], _exc: Exception) -> Template:
    return error_page(request, 403)


def not_found(request: Request[Any, Any, Any], _exc: Exception) -> Template:
    return error_page(request, 404)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Template:
    return error_page(request, exc.status_code, " ".join(exc.errors.values()))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    status = exc.status_code if exc.status_code in TITLES else 400
    return error_page(request, status)


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Template:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: forbidden,
    Forbidden: forbidden,
    NotFoundException: not_found,
    NotFound: not_found,
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: server_error,
}
