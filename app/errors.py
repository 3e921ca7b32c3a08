"""Domain errors users can cause; controllers render them next to the field, keeping the input."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule the user's input broke. `errors` maps a form field (or "" for the whole form) to a message."""

    status_code = 400

    def __init__(self, errors: dict[str, str] | str, field: str = "") -> None:
        self.errors = errors if isinstance(errors, dict) else {field: errors}
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def required_text(value: str, field: str, limit: int, missing: str) -> str:
    """A required free text (an answer, a reason, an opinion), stripped; `missing` says what to write."""
    from app.i18n import _

    value = value.strip()
    if not value:
        raise DomainError(missing, field)
    if len(value) > limit:
        raise DomainError(_("Please keep it within %(n)d characters.", n=limit), field)
    return value


class RateLimited(DomainError):
    status_code = 429


class Conflict(DomainError):
    """The object is no longer in the state the action needs (someone else acted first)."""

    status_code = 409


class NotFound(Exception):
    """The object does not exist or the caller may not know it exists (both look the same: 404)."""


class Forbidden(Exception):
    """The caller is known and the object visible to them, but this action is not theirs to take."""


class FieldErrors:
    """Collects the problems of a whole form, so the user sees all of them at once, not one per attempt."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, validate: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a validator; remember its DomainError and return None instead of raising."""
        try:
            return validate(*args, **kwargs)
        except DomainError as exc:
            for field, message in exc.errors.items():
                self.errors.setdefault(field, message)
            return None

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise DomainError(self.errors)
