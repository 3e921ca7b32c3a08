"""Account pages: register, login, logout, and the officers' workspace entry."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from app.accounts import services
from app.accounts.sessions import SESSION_COOKIE
from app.accounts.tables import OfficerRole, User
from app.errors import DomainError
from app.filings import queues
from app.registry.tables import Department
from app.settings import get_settings
from app.web.auth import client_ip, current_user, login_required, officer_required
from app.web.flash import with_flash
from app.web.forms import FormData, kept, safe_next, text
from app.web.templating import render


def _session_cookie_redirect(path: str, token: str) -> Redirect:
    response = Redirect(path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return response


class AccountController(Controller):
    @get("/register", name="register")
    async def register_page(self, request: Request[Any, Any, Any]) -> Template:
        """The registration form (mobile number and password)."""
        return render(request, "pages/accounts/register.html", values={}, errors={})

    @post("/register")
    async def register(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Create the account, then send the user to log in."""
        form = services.Registration(
            mobile=text(data, "mobile", 20),
            display_name=text(data, "display_name", 40),
            password=str(data.get("password", "")),
            password_confirm=str(data.get("password_confirm", "")),
        )
        try:
            await services.register(form, ip=client_ip(request))
        except DomainError as exc:
            return render(request, "pages/accounts/register.html", status_code=422, values=kept(data),
                          errors=exc.errors)
        return with_flash(Redirect(f"/login?mobile={form.mobile}", status_code=303), "registered")

    @get("/login", name="login")
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = "", mobile: FromQuery[str] = ""
    ) -> Template:
        """The login form."""
        return render(request, "pages/accounts/login.html", values={"mobile": mobile[:20], "next": next},
                      errors={})

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Check the password, rotate the session and go where the user was heading."""
        try:
            result = await services.login(
                text(data, "mobile", 20),
                str(data.get("password", "")),
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
                old_token=request.cookies.get(SESSION_COOKIE),
            )
        except DomainError as exc:
            return render(request, "pages/accounts/login.html", status_code=exc.status_code
                          if exc.status_code == 429 else 422, values=kept(data), errors=exc.errors)
        default = "/office" if result.kind == "officer" else "/me"
        return with_flash(_session_cookie_redirect(safe_next(text(data, "next"), default), result.token), "logged_in")

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        """End the session on the server, not just in the browser."""
        user = current_user(request)
        await services.logout(request.cookies.get(SESSION_COOKIE), user.id if user else None,
                              ip=client_ip(request))
        response = with_flash(Redirect("/", status_code=303), "logged_out")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


class OfficeController(Controller):
    path = "/office"
    guards = [login_required, officer_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/", name="office")
    async def workspace(self, request: Request[Any, Any, Any]) -> Template:
        """The officer's workspace: their department, roles and colleagues."""
        user = current_user(request)
        department = await Department.objects(Department.parent).where(Department.id == user.department_id).first()
        colleagues = await User.select(User.id, User.display_name).where(
            User.department == user.department_id, User.kind == "officer"
        ).order_by(User.display_name)
        roles = await OfficerRole.select(OfficerRole.user, OfficerRole.role).where(
            OfficerRole.user.is_in([c["id"] for c in colleagues] or [0])
        )
        by_user: dict[int, list[str]] = {}
        for r in roles:
            by_user.setdefault(r["user"], []).append(r["role"])
        return render(request, "pages/office/index.html", department=department, roles=sorted(user.roles),
                      counts=await queues.counts(user),
                      colleagues=[{**c, "roles": sorted(by_user.get(c["id"], []))} for c in colleagues])
