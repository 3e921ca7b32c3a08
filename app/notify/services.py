"""Sending in-site notifications; called inside the transaction of the change they announce."""

from __future__ import annotations

from app.db import utcnow
from app.notify.tables import Notification


async def notify(user_id: int, title: str, body: str = "", link: str = "") -> None:
    await Notification.insert(
        Notification(user=user_id, title=title[:120], body=body, link=link[:200], created_at=utcnow())
    )
