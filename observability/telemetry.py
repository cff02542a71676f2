"""Configure telemetry once per process; hand the result to each app factory as an argument."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from observability.otel.propagation import use_project_propagation
from observability.reporting import Reporting, build_reporting
from observability.settings import TelemetrySettings
from observability.tracing import build_tracer_provider
from observability.xray import XRay, build_root_sampler, configure_xray

log = logging.getLogger(__name__)


@dataclass
class Telemetry:
    """What a service reports with: tracer provider (None when tracing is off), X-Ray, errors and logs."""

    service_name: str
    tracer_provider: TracerProvider | None = None
    xray: XRay | None = None
    reporting: Reporting | None = None
    otlp_endpoint: str | None = None
    _noop: trace.NoOpTracerProvider = field(default_factory=trace.NoOpTracerProvider, repr=False)

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer for the service's own spans (a no-op one when tracing is off).

        Args:
            name: the instrumentation scope, usually the module's `__name__`.
        """
        return (self.tracer_provider or self._noop).get_tracer(name)

    def active(self) -> list[str]:
        """The integrations on in this process, by name (for `/healthz` and the benchmark report)."""
        reporting = self.reporting
        on = {
            "otel": self.tracer_provider is not None,
            "otlp": self.otlp_endpoint is not None,
            "xray": self.xray is not None,
            "rollbar": reporting is not None and reporting.errors.sender is not None,
            "cloudwatch": reporting is not None and reporting.cloudwatch is not None,
        }
        return [name for name, is_on in on.items() if is_on]

    def force_flush(self, timeout: float = 3.0) -> None:
        """Send what is buffered now, waiting at most `timeout` seconds; never raises."""
        provider = self.tracer_provider
        if provider is not None:
            _bounded(lambda: provider.force_flush(int(timeout * 1000)), timeout, "flush")

    def shutdown(self, timeout: float = 3.0) -> None:
        """Flush and stop the exporters, giving up after `timeout` seconds; never raises."""
        if self.xray is not None:
            self.xray.shutdown()
        if self.tracer_provider is not None:
            _bounded(self.tracer_provider.shutdown, timeout, "shutdown")


def _bounded(step: Callable[[], object], timeout: float, what: str) -> None:
    """Run `step` in a daemon thread and stop waiting after `timeout` seconds.

    The OTLP exporter retries a backend that is down for up to its own timeout per batch, and the
    SDK's flush and shutdown wait for that whatever timeout they are given: unbounded, a stop outlives
    a container's grace period. What is still unsent when the wait ends is lost.
    """

    def run() -> None:
        try:
            step()
        except Exception:
            log.warning("telemetry %s failed", what, exc_info=True)

    worker = threading.Thread(target=run, name=f"telemetry-{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        log.warning("telemetry %s: gave up after %.0fs; unsent spans are dropped", what, timeout)


def configure(
    settings: TelemetrySettings,
    *,
    service_name: str,
    span_exporter: SpanExporter | None = None,
    xray_emitter: Any = None,
) -> Telemetry:
    """Build the process's telemetry from its settings; every export is off unless configured.

    OpenTelemetry owns trace identity, so spans and W3C propagation are on even with nowhere to
    send them (`traceresponse` and log lines still name the trace); `OTEL_SDK_DISABLED=true` turns
    all of it off.

    Args:
        settings: the service's settings.
        service_name: the default service name (`OTEL_SERVICE_NAME` overrides it).
        span_exporter: exports to this instead of OTLP (tests pass an in-memory one).
        xray_emitter: forces X-Ray on with this emitter (tests pass a stub one).
    """
    name = settings.otel_service_name or service_name
    reporting = build_reporting(settings, name)
    if span_exporter is None and not settings.tracing_enabled:
        if settings.xray_enabled or xray_emitter is not None:
            log.warning("X-Ray is off too: OTEL_SDK_DISABLED=true, and X-Ray takes its ids from OTel")
        log.info("tracing off: OTEL_SDK_DISABLED=true")
        use_project_propagation(read_xray_header=False)
        return Telemetry(service_name=name, reporting=reporting)
    xray = configure_xray(settings, service_name=name, emitter=xray_emitter)
    # Always ours (W3C Level 2), never OTel's default; X-Amzn-Trace-Id is read only with X-Ray on.
    use_project_propagation(read_xray_header=xray is not None)
    sampler = None
    if xray is not None:
        sampler = build_root_sampler(settings, service_name=name)
        log.info("X-Ray on: segments to %s", settings.aws_xray_daemon_address or "127.0.0.1:2000")
    provider = build_tracer_provider(settings, service_name=name, exporter=span_exporter, sampler=sampler)
    if span_exporter is not None:
        log.info("tracing on: exporting to a test exporter")
    elif settings.exporting:
        log.info("tracing on: exporting to %s", settings.otlp_traces_endpoint())
    else:
        log.info(
            "tracing on, not exporting: set OTEL_EXPORTER_OTLP_ENDPOINT or HONEYCOMB_API_KEY to send spans"
        )
    endpoint = settings.otlp_traces_endpoint() if settings.exporting and span_exporter is None else None
    return Telemetry(
        service_name=name, tracer_provider=provider, xray=xray, reporting=reporting, otlp_endpoint=endpoint
    )
