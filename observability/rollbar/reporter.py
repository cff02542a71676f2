"""What goes into a Rollbar item beyond the SDK's own: the service, the trace, the user, the route.

The `rollbar` SDK builds the item (`observability.rollbar.sdk`), off the event loop: frames with
their code, the request (scrubbed), server and notifier. This adds, per app, what the SDK's
process-wide settings cannot say: environment, code version, fingerprint, the person (the token's
user), the route, and the trace ids with links to the trace, all read here, on the request path,
where the trace and the user are current. The rate limit runs first, so a storm of one error costs
a dictionary lookup per error, not an item.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
import uuid
from typing import Any

from starlette.types import Scope

from observability.faults.record import InjectedFault
from observability.links import trace_links
from observability.logs.formatter import current_user, route_of, trace_fields
from observability.redact import scrub_path
from observability.rollbar import sdk
from observability.rollbar.sender import Budget, RateLimiter, RollbarSender

log = logging.getLogger("cruddur.errors")


class ErrorReporter:
    """One item per error, rate-limited per fingerprint, queued on the sender that has the SDK build it.

    Args:
        sender: delivers items; None only logs (Rollbar off).
        service: the service's name.
        environment: Rollbar's `environment`.
        code_version: the deployed version.
        limiter: at most so many items per fingerprint per window.
        budget: at most so many items of this service per hour, all fingerprints together.
        honeycomb: `(team, environment)` for Honeycomb trace links, if configured.
        aws_region: for X-Ray console links, if configured.
    """

    def __init__(
        self,
        sender: RollbarSender | None,
        *,
        service: str,
        environment: str,
        code_version: str,
        limiter: RateLimiter,
        budget: Budget | None = None,
        honeycomb: tuple[str, str] | None = None,
        aws_region: str | None = None,
    ) -> None:
        self.sender, self.service, self.environment = sender, service, environment
        self.code_version, self.limiter, self.budget = code_version, limiter, budget
        self.honeycomb, self.aws_region = honeycomb, aws_region
        self.host = socket.gethostname()
        self.rate_limited = 0

    def report(self, error: BaseException, scope: Scope) -> str | None:
        """Send one item for `error` raised while serving `scope`; the item's uuid, or None if not sent."""
        if self.sender is None:
            return None
        fingerprint = _fingerprint(self.service, error)
        if not self.limiter.allow(fingerprint):
            self._not_sent("Rollbar rate limit")
            return None
        if self.budget is not None and not self.budget.allow():
            self._not_sent("Rollbar hourly budget spent")
            return None
        ids = trace_fields()
        custom: dict[str, Any] = {"service": self.service, **ids, "links": self._links(ids)}
        if isinstance(error, InjectedFault):
            custom["fault"] = error.details()
        report = sdk.Report(error, dict(scope), custom, self._data(error, scope, fingerprint))
        return report.uuid if self.sender.submit(report) else None

    def _not_sent(self, why: str) -> None:
        """Count an item held back by a bound; log the first and every 100th: a storm must not flood logs."""
        self.rate_limited += 1
        if self.rate_limited == 1 or self.rate_limited % 100 == 0:
            log.warning("%s: %d items not sent so far", why, self.rate_limited)

    def _data(self, error: BaseException, scope: Scope, fingerprint: str) -> dict[str, Any]:
        """Merged over the SDK's item last (the redaction policy still runs after it)."""
        route = route_of(scope)
        data: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "timestamp": int(time.time()),
            "environment": self.environment,
            "code_version": self.code_version,
            "framework": "fastapi",
            "title": f"{type(error).__qualname__}: {error}"[:255],
            "fingerprint": fingerprint,
            "context": route or scrub_path(scope.get("path", "")),
            "request": {"route": route},
            "server": {"host": self.host},
        }
        user = current_user()
        if user:
            data["person"] = {"id": user, "username": user}
        return data

    def _links(self, ids: dict[str, str]) -> dict[str, str]:
        if not ids:
            return {}
        return trace_links(ids["trace_id"], honeycomb=self.honeycomb, aws_region=self.aws_region)


def _fingerprint(service: str, error: BaseException) -> str:
    """Same service, exception class and innermost function: the same error, whatever its message."""
    where = ""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_next is None:
            code = tb.tb_frame.f_code
            where = f"{code.co_filename}:{code.co_name}"
        tb = tb.tb_next
    return hashlib.sha1(f"{service}|{type(error).__qualname__}|{where}".encode()).hexdigest()
