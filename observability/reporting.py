"""Errors and log shipping for one process: built from settings, opened and closed in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from observability.logs.cloudwatch import CloudWatchHandler
from observability.logs.formatter import JsonFormatter
from observability.rollbar.reporter import ErrorReporter
from observability.rollbar.sender import RateLimiter, RollbarSender
from observability.settings import TelemetrySettings

log = logging.getLogger(__name__)

A = TypeVar("A")


@dataclass
class Reporting:
    """The Rollbar reporter (always there: it logs unhandled errors) and the CloudWatch handler, if on."""

    errors: ErrorReporter
    cloudwatch: CloudWatchHandler | None = None
    close_timeout: float = 3.0

    def open(self) -> None:
        """Start the background threads and attach the CloudWatch handler; never blocks, never raises."""
        try:
            if self.errors.sender is not None:
                self.errors.sender.start()
            if self.cloudwatch is not None:
                self.cloudwatch.start()
                logging.getLogger().addHandler(self.cloudwatch)
        except Exception:
            log.warning("could not start error and log reporting", exc_info=True)

    def close(self) -> None:
        """Flush Rollbar items and log lines side by side, within `close_timeout` seconds; never raises."""
        closers = []
        if self.errors.sender is not None:
            closers.append(self.errors.sender.close)
        if self.cloudwatch is not None:
            logging.getLogger().removeHandler(self.cloudwatch)
            closers.append(self.cloudwatch.close)
        threads = [threading.Thread(target=self._close_one, args=(close,), daemon=True) for close in closers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.close_timeout + 1)

    def _close_one(self, close: Callable[[float], object]) -> None:
        try:
            close(self.close_timeout)
        except Exception:
            log.warning("could not flush error and log reporting", exc_info=True)


def build_reporting(settings: TelemetrySettings, service: str) -> Reporting:
    """Rollbar when `ROLLBAR_ACCESS_TOKEN` is set, CloudWatch when `CLOUDWATCH_LOG_GROUP` is; no I/O here.

    Args:
        settings: the service's settings.
        service: its `service.name`.
    """
    sender = None
    if settings.rollbar_access_token is not None:
        sender = RollbarSender(
            settings.rollbar_endpoint,
            settings.rollbar_access_token.get_secret_value(),
            queue_size=settings.rollbar_queue_size,
            timeout=settings.rollbar_timeout,
        )
    honeycomb = None
    if settings.honeycomb_team and settings.honeycomb_environment:
        honeycomb = (settings.honeycomb_team, settings.honeycomb_environment)
    errors = ErrorReporter(
        sender,
        service=service,
        environment=settings.rollbar_environment or settings.environment,
        code_version=settings.service_version,
        limiter=RateLimiter(settings.rollbar_rate_limit, settings.rollbar_rate_window),
        honeycomb=honeycomb,
        aws_region=settings.aws_region,
    )
    cloudwatch = None
    if settings.cloudwatch_log_group:
        assert settings.aws_region is not None  # checked by the settings
        cloudwatch = CloudWatchHandler(
            log_group=settings.cloudwatch_log_group,
            log_stream=f"{service}/{socket.gethostname()}",
            region=settings.aws_region,
            endpoint_url=settings.cloudwatch_endpoint(),
            send_interval=settings.cloudwatch_send_interval,
            queue_size=settings.cloudwatch_queue_size,
            retry_max=settings.cloudwatch_retry_max,
        )
        cloudwatch.setFormatter(JsonFormatter(service))  # the same lines as on stdout
    return Reporting(errors=errors, cloudwatch=cloudwatch)


def with_reporting(
    reporting: Reporting, lifespan: Callable[[A], AbstractAsyncContextManager[None]]
) -> Callable[[A], AbstractAsyncContextManager[None]]:
    """`lifespan` inside the reporting's: threads start before the app's resources, flush after them."""

    @asynccontextmanager
    async def run(app: A) -> AsyncIterator[None]:
        reporting.open()
        try:
            async with lifespan(app):
                yield
        finally:
            await asyncio.to_thread(reporting.close)

    return run
