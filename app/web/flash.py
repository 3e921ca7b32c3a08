"""One-shot messages after a redirect, carried by a cookie that holds only a code from this table."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from app.i18n import N_, _
from app.settings import get_settings
from app.web.security import FLASH_COOKIE

# Codes map to msgids; the text is translated when shown, and a forged cookie can only pick from this list.
MESSAGES = {
    "registered": N_("Your account is ready. Please log in."),
    "logged_in": N_("Welcome back."),
    "logged_out": N_("You have logged out."),
    "activated": N_("Your personal page is activated."),
    "enterprise_activated": N_("The enterprise page is activated."),
    "agent_granted": N_("The agent has been authorised."),
    "agent_revoked": N_("The agent's authorisation has been revoked."),
    "login_needed": N_("Please log in first."),
    "saved": N_("Saved."),
    "published": N_("The guide is published."),
    "draft_saved": N_("The draft is saved; the published guide is unchanged until you publish."),
    "case_submitted": N_("Your application is submitted. Keep the case number and query code to track it."),
    "filing_saved": N_("Your draft is saved. You can come back and finish it later."),
    "case_withdrawn": N_("The application has been withdrawn."),
    "case_resubmitted": N_("The corrected application is resubmitted."),
    "case_updated": N_("The case has been updated."),
    "consent_recorded": N_("The resident's consent is recorded. Choose the item to file."),
    "calendar_saved": N_("The day is saved in the working-day calendar."),
    "calendar_removed": N_("The day is removed from the working-day calendar."),
    "bundle_submitted": N_("Your bundle is filed. Each department now works on its part; follow them here."),
    "certificate_revoked": N_("The certificate is revoked. The holder has been told."),
}


def with_flash(response: Response[Any], code: str) -> Response[Any]:
    response.set_cookie(FLASH_COOKIE, code, path="/", httponly=True, samesite="lax", max_age=60,
                        secure=get_settings().secure_cookies)
    return response


def flash_message(request: Request[Any, Any, Any]) -> str:
    code = request.cookies.get(FLASH_COOKIE, "")
    return _(MESSAGES[code]) if code in MESSAGES else ""
