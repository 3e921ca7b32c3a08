"""The personal page (/me), its activation, guardians' child pages, and the enterprise page with members."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.lifelong import dashboard, enterprise, services
from app.web.auth import client_ip, current_user, login_required
from app.web.flash import with_flash
from app.web.forms import FormData, kept, text
from app.web.templating import render
from app.workdays.calendar import local_today


class MeController(Controller):
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/me", name="me")
    async def me(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The citizen's page at a glance: to-dos, cases under way, certificates, messages, the timeline and
        suggested services; before activation it asks for it."""
        user = current_user(request)
        if user.is_officer:
            return Redirect("/office")
        if not user.is_activated:
            return render(request, "pages/me/index.html", d=None, notifications=await dashboard.notifications_of(user))
        d = await dashboard.dashboard(user, local_today())
        return render(request, "pages/me/index.html", d=d, notifications=d.notifications)

    @get("/activate", name="activate")
    async def activate_page(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The activation form: resident ID number and social security card number."""
        if current_user(request).is_activated:
            return Redirect("/me")
        return render(request, "pages/me/activate.html", values={}, errors={})

    @post("/activate")
    async def activate(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Match both numbers against the population registry and bind the page."""
        try:
            await services.activate_personal_page(
                current_user(request), text(data, "id_number", 40), text(data, "ssc_number", 40),
                ip=client_ip(request),
            )
        except DomainError as exc:
            return render(request, "pages/me/activate.html", status_code=exc.status_code
                          if exc.status_code == 429 else 422, values=kept(data), errors=exc.errors)
        return with_flash(Redirect("/me", status_code=303), "activated")

    @get("/me/children/{child_id:int}", name="child")
    async def child(self, request: Request[Any, Any, Any], child_id: FromPath[int]) -> Template:
        """A minor's page, reached by the guardian."""
        page = await services.child_page(current_user(request), child_id, ip=client_ip(request))
        return render(request, "pages/me/child.html", page=page, child=page.child)


class EnterpriseController(Controller):
    path = "/enterprise"
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/activate", name="enterprise_activate")
    async def activate_page(self, request: Request[Any, Any, Any]) -> Template:
        """The enterprise activation form (unified social credit code)."""
        return render(request, "pages/enterprise/activate.html", values={}, errors={},
                      activated=current_user(request).is_activated)

    @post("/activate")
    async def activate(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Only the registry's legal representative may open the enterprise page."""
        user = current_user(request)
        try:
            uscc = await services.activate_enterprise_page(user, text(data, "uscc", 40), ip=client_ip(request))
        except DomainError as exc:
            return render(request, "pages/enterprise/activate.html", status_code=exc.status_code
                          if exc.status_code == 429 else 422, values=kept(data), errors=exc.errors,
                          activated=user.is_activated)
        return with_flash(Redirect(f"/enterprise/{uscc}", status_code=303), "enterprise_activated")

    @get("/{uscc:str}", name="enterprise")
    async def page(self, request: Request[Any, Any, Any], uscc: FromPath[str]) -> Template:
        """The enterprise page, for its legal representative and current agents."""
        member = await services.membership(current_user(request), uscc, ip=client_ip(request))
        page = await enterprise.enterprise_page(member, local_today())
        return render(request, "pages/enterprise/page.html", member=member, entity=member.entity, page=page)

    @get("/{uscc:str}/members", name="enterprise_members")
    async def members(self, request: Request[Any, Any, Any], uscc: FromPath[str]) -> Template:
        """Members and roles; the legal representative grants and revokes agents here."""
        member = await services.membership(current_user(request), uscc, ip=client_ip(request))
        return render(request, "pages/enterprise/members.html", "components/enterprise/members.html",
                      member=member, entity=member.entity, members=await services.members_of(member.entity.id),
                      values={}, errors={})

    @post("/{uscc:str}/members")
    async def grant(self, request: Request[Any, Any, Any], uscc: FromPath[str], data: FormData) -> Template | Redirect:
        """Authorise an agent by ID number, with a scope and an end date."""
        user = current_user(request)
        member = await services.membership(user, uscc, ip=client_ip(request))
        form = services.AgentGrant(
            id_number=text(data, "id_number", 40),
            scope=text(data, "scope", 20),
            expires_on=text(data, "expires_on", 20),
        )
        try:
            await services.grant_agent(user, member, form, ip=client_ip(request))
        except DomainError as exc:
            return render(request, "pages/enterprise/members.html", "components/enterprise/members.html",
                          status_code=422, member=member, entity=member.entity,
                          members=await services.members_of(member.entity.id), values=kept(data), errors=exc.errors)
        return with_flash(Redirect(f"/enterprise/{member.entity.uscc}/members", status_code=303), "agent_granted")

    @post("/{uscc:str}/members/{member_id:int}/revoke")
    async def revoke(self, request: Request[Any, Any, Any], uscc: FromPath[str], member_id: FromPath[int]) -> Redirect:
        """Revoke an agent's authorisation at once."""
        user = current_user(request)
        member = await services.membership(user, uscc, ip=client_ip(request))
        await services.revoke_agent(user, member, member_id, ip=client_ip(request))
        return with_flash(Redirect(f"/enterprise/{member.entity.uscc}/members", status_code=303), "agent_revoked")
