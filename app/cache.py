"""Per-worker copies of small, rarely changing tables (synonyms, the calendar, guides, material types).

Each copy is read again after its time to live, or at once in the worker that changed the data
(`forget`); other workers catch up within the TTL. Callers treat what they get as read-only."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, ClassVar


class TTLCache:
    caches: ClassVar[list[TTLCache]] = []

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        TTLCache.caches.append(self)

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry[0] <= self.ttl:
            return entry[1]
        value = await load()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)


def forget_all() -> None:
    """Every cache of this worker (the tests call it when they empty the database)."""
    for cache in TTLCache.caches:
        cache.forget()
