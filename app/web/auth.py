"""Authentication middleware and guards: who is asking, and may they."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.accounts.sessions import SESSION_COOKIE, CurrentUser, load_session
from app.audit.services import record_alone


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        user = await load_session(token) if token else None
        return AuthenticationResult(user=user, auth=token if user else None)


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else ""


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    user = connection.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


async def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException()


async def deny(connection: ASGIConnection[Any, Any, Any, Any], reason: str, **detail: Any) -> None:
    """Record a refused access in the audit log (its own short write: the request changes nothing else)."""
    user = current_user(connection)
    await record_alone(
        "access.denied",
        outcome="denied",
        actor_id=user.id if user else None,
        subject_type="route",
        subject_key=connection.scope["path"][:64],
        ip=client_ip(connection),
        reason=reason,
        **detail,
    )


async def officer_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException()
    if not user.is_officer:
        await deny(connection, "not an officer")
        raise PermissionDeniedException()


def requires_role(*roles: str) -> Any:
    """A guard letting through officers who hold at least one of `roles` in their department."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        await officer_required(connection, handler)
        user = current_user(connection)
        if user is None or not user.roles.intersection(roles):
            await deny(connection, "missing role", needed=sorted(roles))
            raise PermissionDeniedException()

    return guard
