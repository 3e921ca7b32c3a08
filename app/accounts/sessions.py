"""Server-side login sessions: the browser holds a random token, the database its SHA-256 and the clocks."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.accounts.tables import OfficerRole, User, WebSession
from app.db import read_small, utcnow
from app.notify.tables import Notification
from app.settings import get_settings

SESSION_COOKIE = "yw_session"
# Writing last_seen on every request would make every page view a write; a minute's slack is harmless.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class CurrentUser:
    """Who is logged in, loaded once per request by the authentication middleware."""

    id: int
    display_name: str
    kind: str
    person_id: int | None
    department_id: int | None
    unread: int
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_officer(self) -> bool:
        return self.kind == "officer"

    @property
    def is_activated(self) -> bool:
        return self.person_id is not None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _as_datetime(value: datetime | str) -> datetime:
    # SQLite hands timestamps back as text through raw queries.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def create_session(user_id: int, ip: str, user_agent: str) -> str:
    """Insert a new session and return its token; call inside the login transaction."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await WebSession.insert(
        WebSession(
            token_hash=hash_token(token),
            user=user_id,
            created_at=now,
            last_seen_at=now,
            ip=ip[:45],
            user_agent=user_agent[:200],
        )
    )
    return token


async def end_session(token: str | None) -> None:
    if token:
        await WebSession.delete().where(WebSession.token_hash == hash_token(token))


async def current_user_by_id(user_id: int) -> CurrentUser:
    """The user as a request would see them, for work done outside a request (demo data, jobs, tests)."""
    row = await User.select().where(User.id == user_id).first()
    roles = await OfficerRole.select(OfficerRole.role).where(OfficerRole.user == user_id).output(as_list=True)
    unread = await Notification.count().where(Notification.user == user_id, Notification.read_at.is_null())
    return CurrentUser(id=row["id"], display_name=row["display_name"], kind=row["kind"], person_id=row["person"],
                       department_id=row["department"], unread=unread, roles=frozenset(roles))


async def load_session(token: str) -> CurrentUser | None:
    """The user behind a session token, or None when it is unknown, idle too long or too old."""
    settings = get_settings()
    rows = await read_small(
        'SELECT s.id AS sid, s.created_at, s.last_seen_at, u.id, u.display_name, u.kind, u.person, '
        "u.department, u.is_active, "
        '(SELECT COUNT(*) FROM notification n WHERE n."user" = u.id AND n.read_at IS NULL) AS unread '
        'FROM web_session s JOIN app_user u ON u.id = s."user" WHERE s.token_hash = {}',
        hash_token(token),
    )
    if not rows:
        return None
    row = rows[0]
    now = utcnow()
    created_at, last_seen_at = _as_datetime(row["created_at"]), _as_datetime(row["last_seen_at"])
    expired = (
        now - last_seen_at > timedelta(minutes=settings.session_idle_minutes)
        or now - created_at > timedelta(hours=settings.session_absolute_hours)
        or not row["is_active"]
    )
    if expired:
        await WebSession.delete().where(WebSession.id == row["sid"])
        return None
    if now - last_seen_at > TOUCH_INTERVAL:
        await WebSession.update({WebSession.last_seen_at: now}).where(WebSession.id == row["sid"])
    roles: frozenset[str] = frozenset()
    if row["kind"] == "officer":
        roles = frozenset(
            await OfficerRole.select(OfficerRole.role).where(OfficerRole.user == row["id"]).output(as_list=True)
        )
    return CurrentUser(
        id=row["id"],
        display_name=row["display_name"],
        kind=row["kind"],
        person_id=row["person"],
        department_id=row["department"],
        unread=int(row["unread"]),
        roles=roles,
    )
