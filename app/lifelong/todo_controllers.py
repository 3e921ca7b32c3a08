"""The holder's to-dos (/me/todos): those of the person and of the enterprises they act for."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from app.lifelong import dashboard
from app.web.auth import current_user, login_required
from app.web.templating import render
from app.workdays.calendar import local_today


class TodoController(Controller):
    guards = [login_required]  # noqa: RUF012 - Litestar reads guards as a class attribute

    @get("/me/todos", name="my_todos")
    async def todos(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Open to-dos, the soonest due first, then the done ones."""
        user = current_user(request)
        if user.is_officer:
            return Redirect("/office")
        if not user.is_activated:
            return Redirect("/me")
        return render(request, "pages/me/todos.html", "components/me/todos.html",
                      todos=await dashboard.todo_page(user, local_today()))
