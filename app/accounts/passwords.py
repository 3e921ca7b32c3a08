"""Password rules and argon2id hashing, run off the event loop with bounded concurrency."""

from __future__ import annotations

from functools import lru_cache

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.errors import DomainError
from app.i18n import _
from app.settings import ROOT

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Each hash takes ~64 MiB and tens of milliseconds: two at a time on this two-core machine.
_limiter = anyio.CapacityLimiter(2)
# Verifying against this when the account does not exist keeps the timing the same either way.
_DUMMY_HASH = _hasher.hash("yiwang-dummy-password")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords, plus ones common in China that its list lacks."""
    path = ROOT / "app" / "accounts" / "common_passwords_cn.txt"
    extra = (line.strip().lower() for line in path.read_text().splitlines() if line.strip())
    return frozenset(FREQUENCY_LISTS["passwords"]).union(extra)


def check_password(password: str, confirm: str | None = None, *, mobile: str = "") -> str:
    if len(password) < MIN_LENGTH:
        raise DomainError(_("The password needs at least %(n)s characters.", n=MIN_LENGTH), "password")
    if len(password) > MAX_LENGTH:
        raise DomainError(_("The password may have at most %(n)s characters.", n=MAX_LENGTH), "password")
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) <= 2:
        raise DomainError(_("This password is too common and easily guessed; please choose another."), "password")
    if mobile and mobile in password:
        raise DomainError(_("The password must not contain your mobile number."), "password")
    if confirm is not None and confirm != password:
        raise DomainError(_("The two passwords do not match."), "password_confirm")
    return password


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_limiter)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify, limiter=_limiter)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
