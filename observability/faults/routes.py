"""Faults that name a route (`fault.<service>.<route>`): fired once routing has said which route it is.

Routing happens inside the app, after every middleware, so the fault middleware leaves these in a
context variable and `route_faults`, an app-wide dependency `Telemetry.instrument_app` adds, fires
them; a status, timeout or drop goes back to the middleware (`RouteTerminal`), which answers it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.requests import Request

from observability.faults.grammar import Fault


@dataclass
class Routed:
    """The faults of a request that name a route, and how the middleware fires them."""

    faults: list[Fault]
    service: str
    fire: Callable[[list[Fault]], Awaitable[Fault | None]]


routed: ContextVar[Routed | None] = ContextVar("cruddur_routed_faults", default=None)


class RouteTerminal(Exception):
    """Hands a route's status, timeout or drop back to the fault middleware, which answers it."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.spec)
        self.fault = fault


async def route_faults(request: Request) -> None:
    """Fire the faults that name the request's route (by its name, its handler's)."""
    waiting = routed.get()
    if waiting is None:
        return
    name = getattr(request.scope.get("route"), "name", None)
    terminal = await waiting.fire([f for f in waiting.faults if f.applies_to(waiting.service, name)])
    if terminal is not None:
        raise RouteTerminal(terminal)
