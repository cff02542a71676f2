"""Each service applies the faults its request's baggage addresses to it; the edge decides whose count.

Innermost of the app's middleware, so the access log times a delay and logs an injected status; the
baggage itself is left as it came (faults for other services travel on with it), except at the edge,
where a client's fault entries are dropped unless faults are on and, with `FAULTS_SECRET`, the request
carries it in `X-Fault-Secret`. In order, for the faults that fire (each with its probability):
delays, then a pending slow query for the database hook, then the first of status, timeout or drop.
Faults that name a route fire the same way once routing has named it (`route_faults`, a dependency
`Telemetry.instrument_app` gives the app).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import baggage, context
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from observability.faults import db
from observability.faults.grammar import TERMINAL, Fault, faults_in, is_fault_key
from observability.faults.record import InjectedFault, fired
from observability.rollbar.middleware import handle_error
from observability.rollbar.reporter import ErrorReporter

log = logging.getLogger("cruddur.faults")

SECRET_HEADER = "x-fault-secret"
_WARNED_MAX = 256


class FaultMiddleware:
    """Applies this service's faults from the request's baggage (and, at the edge, filters the client's).

    Args:
        app: the ASGI app inside.
        service: this service's name (the `<service>` of `fault.<service>`).
        active: faults are applied (`FAULTS_ENABLED=true` outside production).
        edge: the public edge: client fault entries are dropped unless accepted.
        secret: at the edge, the value `X-Fault-Secret` must carry (None: none needed).
        cap: the longest delay or hang, in seconds.
        reporter: reports an injected 5xx to Rollbar (None: log only).
        rng: the randomness of probabilities and jitter (tests pass a seeded one).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        active: bool,
        edge: bool = False,
        secret: str | None = None,
        cap: float = 10.0,
        reporter: ErrorReporter | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.app, self.service = app, service
        self.active, self.edge, self.secret, self.cap = active, edge, secret, cap
        self.reporter = reporter
        self.rng = rng or random.Random()
        self._warned: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(is_fault_key(key) for key in baggage.get_all()):
            await self.app(scope, receive, send)
            return
        if self.edge and not self._accepted(scope):
            token = context.attach(_without_faults(context.get_current()))
            try:
                await self.app(scope, receive, send)
            finally:
                context.detach(token)
            return
        await self._apply(scope, receive, send)

    def _accepted(self, scope: Scope) -> bool:
        if not self.active:
            return False
        if self.secret is None:
            return True
        given = Headers(scope=scope).get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret.encode())

    async def _apply(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.active:
            await self.app(scope, receive, send)
            return
        faults, refused = faults_in(
            baggage.get_all().items(), cap=self.cap, service=self.service, bad_keys=self.edge
        )
        for reason in refused:
            self._warn_once(reason)
        firing = [f for f in faults if self.rng.random() < f.probability]
        now = [f for f in firing if f.route is None]
        waiting = db.Pending(None, self.service, self._seconds)
        try:
            terminal = await self._fire(now, waiting)
            if terminal is None:
                later = [f for f in firing if f.route is not None]
                token = _routed.set(_Routed(later, waiting, self) if later else None)
                pending = db.pending.set(waiting)
                try:
                    await self.app(scope, receive, send)
                finally:
                    db.pending.reset(pending)
                    _routed.reset(token)
                return
        except _RouteTerminal as stop:  # a fault of the request's route, raised by `route_faults`
            terminal = stop.fault
        await self._terminal(terminal, scope, receive, send)

    async def _fire(self, faults: list[Fault], waiting: db.Pending) -> Fault | None:
        """Delays now, a slow query for later; the first status, timeout or drop is returned."""
        for fault in (f for f in faults if f.kind == "delay"):
            seconds = self._seconds(fault)
            fired(fault, self.service, seconds=seconds)
            await asyncio.sleep(seconds)
        if waiting.fault is None:
            waiting.fault = next((f for f in faults if f.kind == "slow_query"), None)
        return next((f for f in faults if f.kind in TERMINAL), None)

    async def _terminal(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind == "status":
            await self._status(fault, scope, receive, send)
        elif fault.kind == "timeout":
            await self._hang(fault, scope, receive, send)
        else:
            fired(fault, self.service)
            # Headers out, then an error: the server can only close the connection (no answer, no 500).
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            raise InjectedFault(fault, self.service)

    async def _status(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        assert fault.status is not None
        fired(fault, self.service)
        if fault.status >= 500:
            try:
                raise InjectedFault(fault, self.service)  # raised, so the Rollbar item has its frames
            except InjectedFault as error:
                handle_error(self.reporter, error, scope)
        body = {
            "detail": f"injected fault: status {fault.status} in {self.service}",
            "service": self.service,
            "injected": True,
        }
        await JSONResponse(body, status_code=fault.status)(scope, receive, send)

    async def _hang(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = self._seconds(fault)
        fired(fault, self.service, seconds=seconds)
        if await _caller_left_within(receive, seconds):
            return  # the caller's timeout fired first, as intended: nobody is left to answer
        body = {"detail": f"injected fault: timeout in {self.service}", "service": self.service}
        await JSONResponse({**body, "injected": True}, status_code=504)(scope, receive, send)

    def _seconds(self, fault: Fault) -> float:
        assert fault.delay is not None
        low, high = fault.delay
        return low if low == high else self.rng.uniform(low, high)

    def _warn_once(self, reason: str) -> None:
        if reason in self._warned:
            return
        self._warned[reason] = None
        while len(self._warned) > _WARNED_MAX:
            self._warned.popitem(last=False)
        log.warning("fault ignored: %s", reason, extra={"fault_refused": True})


async def _caller_left_within(receive: Receive, seconds: float) -> bool:
    """Wait up to `seconds` for the caller to disconnect; whether it did."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return True
    except TimeoutError:
        return False


@dataclass
class _Routed:
    """The faults that name a route, until routing says which route the request is for."""

    faults: list[Fault]
    waiting: db.Pending
    middleware: FaultMiddleware


_routed: ContextVar[_Routed | None] = ContextVar("cruddur_routed_faults", default=None)


class _RouteTerminal(Exception):
    """Raised by `route_faults` to hand a route's status, timeout or drop back to the middleware."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.spec)
        self.fault = fault


async def route_faults(request: Request) -> None:
    """The app-wide dependency that fires `fault.<service>.<route>` faults once the route is known.

    Routing happens inside the app, after every middleware: the route's name (its handler's) is
    only known here. A status, timeout or drop goes back to the middleware, which answers it.
    """
    routed = _routed.get()
    if routed is None:
        return
    name = getattr(request.scope.get("route"), "name", None)
    mine = [f for f in routed.faults if f.route == name]
    terminal = await routed.middleware._fire(mine, routed.waiting)
    if terminal is not None:
        raise _RouteTerminal(terminal)


def _without_faults(ctx: context.Context) -> context.Context:
    for key in [k for k in baggage.get_all(ctx) if is_fault_key(k)]:
        ctx = baggage.remove_baggage(key, ctx)
    return ctx
