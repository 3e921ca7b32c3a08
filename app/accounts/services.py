"""Account rules: registration, login with rate limits and session rotation, logout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.accounts.passwords import check_password, hash_password, needs_rehash, verify_password
from app.accounts.sessions import create_session, end_session
from app.accounts.tables import User
from app.audit.services import count_since, record, record_alone
from app.db import utcnow, write_tx
from app.errors import DomainError, FieldErrors, RateLimited
from app.i18n import _
from app.registry.validators import check_mobile

DISPLAY_NAME_MAX = 20


@dataclass(frozen=True)
class Registration:
    mobile: str
    display_name: str
    password: str
    password_confirm: str


async def register(form: Registration, *, ip: str = "") -> int:
    """Create a citizen account; the page is activated separately, against the registry."""
    errors = FieldErrors()
    mobile = errors.check(check_mobile, form.mobile) or ""
    name = form.display_name.strip()
    if not name:
        errors.add("display_name", _("Please enter how we should address you."))
    elif len(name) > DISPLAY_NAME_MAX:
        errors.add("display_name", _("At most %(n)s characters.", n=DISPLAY_NAME_MAX))
    errors.check(check_password, form.password, form.password_confirm, mobile=mobile)
    errors.raise_if_any()
    password_hash = await hash_password(form.password)
    async with write_tx():
        if await User.exists().where(User.mobile == mobile):
            raise DomainError(_("This mobile number is already registered; please log in."), "mobile")
        rows = await User.insert(
            User(mobile=mobile, password_hash=password_hash, display_name=name, kind="citizen", created_at=utcnow())
        )
        user_id = rows[0]["id"]
        await record("account.register", actor_id=user_id, subject_type="user", subject_key=str(user_id), ip=ip)
    return user_id


async def _check_rate_limits(mobile: str, ip: str) -> None:
    from app.settings import get_settings

    settings = get_settings()
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    too_many = _("Too many failed attempts; please try again in %(n)s minutes.", n=settings.login_window_minutes)
    if await count_since("login.failed", since, subject_key=mobile) >= settings.login_max_failures_per_account:
        raise RateLimited(too_many, "password")
    if ip and await count_since("login.failed", since, ip=ip) >= settings.login_max_failures_per_address:
        raise RateLimited(too_many, "password")


@dataclass(frozen=True)
class LoginResult:
    token: str
    kind: str


async def login(mobile: str, password: str, *, ip: str, user_agent: str, old_token: str | None) -> LoginResult:
    """Check the password and open a fresh session; the old token (if any) stops working: rotation."""
    mobile = (mobile or "").strip()
    if not mobile or not password:
        errors = {}
        if not mobile:
            errors["mobile"] = _("Please enter your mobile number.")
        if not password:
            errors["password"] = _("Please enter your password.")
        raise DomainError(errors)
    await _check_rate_limits(mobile, ip)
    user = await User.objects().where(User.mobile == mobile).first()
    ok = await verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        await record_alone("login.failed", outcome="failed", subject_type="user", subject_key=mobile, ip=ip)
        raise DomainError(_("Wrong mobile number or password."), "password")
    new_hash = await hash_password(password) if needs_rehash(user.password_hash) else None
    async with write_tx():
        await end_session(old_token)
        token = await create_session(user.id, ip, user_agent)
        values = {User.last_login_at: utcnow()}
        if new_hash:
            values[User.password_hash] = new_hash
        await User.update(values).where(User.id == user.id)
        await record("login.ok", actor_id=user.id, subject_type="user", subject_key=mobile, ip=ip)
    return LoginResult(token=token, kind=user.kind)


async def logout(token: str | None, user_id: int | None, *, ip: str) -> None:
    async with write_tx():
        await end_session(token)
        if user_id is not None:
            await record("logout", actor_id=user_id, subject_type="user", subject_key=str(user_id), ip=ip)
