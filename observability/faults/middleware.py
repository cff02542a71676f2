"""Each service applies the faults its request's baggage addresses to it; the edge decides whose count.

Innermost of the app's middleware, so the access log times a delay and logs an injected status; the
baggage itself is left as it came (faults for other services travel on with it), except at the edge,
where a client's fault entries are dropped unless, with `FAULTS_SECRET`, the request carries it in
`X-Fault-Secret` (with faults off, the edge has no faults middleware: its edge middleware drops them).
In order, for the faults that fire (each with its probability): delays, then a pending slow query for
the database hook, then the first of status, timeout or drop. Faults that name a route fire the same
way once routing has named it (`routes`); `answers` says how a status, timeout or drop is answered.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import random
from collections import OrderedDict

from opentelemetry import baggage, context
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from observability.faults import answers, db, routes
from observability.faults.grammar import TERMINAL, Fault, faults_in, is_fault_key
from observability.faults.record import fired
from observability.otel.edge import without_baggage
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
            token = context.attach(without_baggage(context.get_current(), is_fault_key))
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
                fire = functools.partial(self._fire, waiting=waiting)
                token = routes.routed.set(routes.Routed(later, self.service, fire) if later else None)
                pending = db.pending.set(waiting)
                try:
                    await self.app(scope, receive, send)
                finally:
                    db.pending.reset(pending)
                    routes.routed.reset(token)
                return
        except routes.RouteTerminal as stop:  # a fault of the request's route, from `route_faults`
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
            await answers.status(fault, self.service, self.reporter, scope, receive, send)
        elif fault.kind == "timeout":
            await answers.hang(fault, self.service, self._seconds(fault), scope, receive, send)
        else:
            await answers.drop(fault, self.service, send)

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
