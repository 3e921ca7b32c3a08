"""Sending notifications: the in-site message, and SMS/email through adapters; called inside the transaction
of the change they announce, so a rolled-back change announces nothing."""

from __future__ import annotations

import os
from typing import Protocol

from app.db import utcnow
from app.notify.tables import Notification, OutboxMessage


class Channel(Protocol):
    """An SMS or email gateway. Adapters for real gateways send from the outbox, after the commit."""

    name: str

    async def send(self, recipient: str, subject: str, body: str) -> None: ...


class OutboxChannel:
    """The default adapter: the message is written to the outbox table, where an operator (or a gateway
    worker) picks it up. Nothing leaves the machine."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def send(self, recipient: str, subject: str, body: str) -> None:
        await OutboxMessage.raw("INSERT INTO outbox_message (channel, recipient, subject, body, created_at) "
                                "VALUES ({}, {}, {}, {}, {})", self.name, recipient[:120], subject[:120], body,
                                utcnow())


ADAPTERS = {"outbox": OutboxChannel}


def channel(name: str) -> Channel:
    """The adapter configured for `sms` or `email` (YIWANG_SMS_ADAPTER / YIWANG_EMAIL_ADAPTER, default outbox)."""
    adapter = os.environ.get(f"YIWANG_{name.upper()}_ADAPTER", "outbox")
    if adapter not in ADAPTERS:
        raise RuntimeError(f"unknown {name} adapter {adapter!r}; known: {', '.join(ADAPTERS)}")
    return ADAPTERS[adapter](name)


async def notify(user_id: int | None, title: str, body: str = "", link: str = "", *, sms_to: str = "") -> None:
    """An in-site message for the user (if they have an account) and, given a mobile number, an SMS."""
    if user_id is not None:
        # Written out, as audit rows are: every state change sends one or two.
        await Notification.raw('INSERT INTO notification ("user", title, body, link, created_at) '
                               "VALUES ({}, {}, {}, {}, {})", user_id, title[:120], body, link[:200], utcnow())
    if sms_to:
        await channel("sms").send(sms_to, title, f"{title} {body}".strip())
