"""The app's own route table, as (method, path) pairs: the security suite walks it, so a new route is covered (and
must be given a policy) without editing a test."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.routes import HTTPRoute

from app.main import create_app

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the route table has it: /cases/{case_no:str}

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints() -> list[Endpoint]:
    found = set()
    for route in create_app().routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods - {"OPTIONS"}:  # Litestar's own CORS preflight answer
                found.add(Endpoint(method, route.path))
    return sorted(found, key=lambda e: (e.path, e.method))


ENDPOINTS = endpoints()
