"""Building Rollbar items: one per error, stamped with the trace, the user and the request (scrubbed)."""

from __future__ import annotations

import hashlib
import logging
import socket
import time
import traceback
import uuid
from typing import Any

from starlette.types import Scope

from observability.logs.formatter import current_user, route_of, trace_fields
from observability.redact import scrub_headers, scrub_query, scrub_text
from observability.rollbar.sender import RateLimiter, RollbarSender

log = logging.getLogger("cruddur.errors")


class ErrorReporter:
    """Builds Rollbar items and hands them to a sender, rate-limited per fingerprint.

    Args:
        sender: delivers items; None only logs (Rollbar off).
        service: the service's name.
        environment: Rollbar's `environment`.
        code_version: the deployed version.
        limiter: at most so many items per fingerprint per window.
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
        honeycomb: tuple[str, str] | None = None,
        aws_region: str | None = None,
    ) -> None:
        self.sender, self.service, self.environment = sender, service, environment
        self.code_version, self.limiter = code_version, limiter
        self.honeycomb, self.aws_region = honeycomb, aws_region
        self.host = socket.gethostname()
        self.rate_limited = 0

    def report(self, error: BaseException, scope: Scope) -> str | None:
        """Send one item for `error` raised while serving `scope`; the item's uuid, or None if not sent."""
        if self.sender is None:
            return None
        data = self.item(error, scope)
        if not self.limiter.allow(data["fingerprint"]):
            self.rate_limited += 1
            log.warning("Rollbar rate limit: item for %s not sent", data["title"])
            return None
        return str(data["uuid"]) if self.sender.submit(data) else None

    def item(self, error: BaseException, scope: Scope) -> dict[str, Any]:
        """The `data` of a Rollbar item (see Rollbar's item API) for `error` during `scope`."""
        frames = [
            {"filename": f.filename, "lineno": f.lineno, "method": f.name, "code": f.line or ""}
            for f in traceback.extract_tb(error.__traceback__)[-50:]
        ]
        message = scrub_text(str(error))
        where = f"{frames[-1]['filename']}:{frames[-1]['method']}" if frames else ""
        ids = trace_fields()
        user = current_user()
        data: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "environment": self.environment,
            "level": "error",
            "timestamp": int(time.time()),
            "code_version": self.code_version,
            "language": "python",
            "framework": "fastapi",
            "title": f"{type(error).__qualname__}: {message}"[:255],
            "fingerprint": hashlib.sha1(
                f"{self.service}|{type(error).__qualname__}|{where}".encode()
            ).hexdigest(),
            "context": route_of(scope) or scope.get("path", ""),
            "body": {
                "trace": {
                    "frames": frames,
                    "exception": {"class": type(error).__qualname__, "message": message},
                }
            },
            "request": self._request(scope),
            "server": {"host": self.host},
            "notifier": {"name": "cruddur-observability", "version": "0.1.0"},
            "custom": {"service": self.service, **ids, "links": self._links(ids)},
        }
        if user:
            data["person"] = {"id": user, "username": user}
        return data

    def _request(self, scope: Scope) -> dict[str, Any]:
        headers = scrub_headers(scope.get("headers", []))
        query = scrub_query(scope.get("query_string", b"").decode("latin-1"))
        host = headers.get("host", "")
        url = f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}" + (
            f"?{query}" if query else ""
        )
        return {
            "method": scope.get("method", ""),
            "url": url,
            "route": route_of(scope),
            "query_string": query,
            "headers": headers,
            "user_ip": (scope.get("client") or ("",))[0],
        }

    def _links(self, ids: dict[str, str]) -> dict[str, str]:
        links: dict[str, str] = {}
        if not ids:
            return links
        if self.honeycomb is not None:
            team, env = self.honeycomb
            links["honeycomb"] = (
                f"https://ui.honeycomb.io/{team}/environments/{env}/trace?trace_id={ids['trace_id']}"
            )
        if self.aws_region:
            region = self.aws_region
            links["xray"] = (
                f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                f"#xray:traces/{ids['xray_trace_id']}"
            )
        return links


def _fingerprint(service: str, error: BaseException, where: str) -> str:
    # Same service, exception class and innermost function: the same error, whatever its message.
    return hashlib.sha1(f"{service}|{type(error).__qualname__}|{where}".encode()).hexdigest()
