"""Configure telemetry once per process; hand the result to each app factory as an argument."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from observability.settings import TelemetrySettings
from observability.tracing import build_tracer_provider

log = logging.getLogger(__name__)


@dataclass
class Telemetry:
    """Everything a service needs to report: the tracer provider (None when tracing is off)."""

    service_name: str
    tracer_provider: TracerProvider | None = None
    _noop: trace.NoOpTracerProvider = field(default_factory=trace.NoOpTracerProvider, repr=False)

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer for the service's own spans (a no-op one when tracing is off).

        Args:
            name: the instrumentation scope, usually the module's `__name__`.
        """
        return (self.tracer_provider or self._noop).get_tracer(name)

    def active(self) -> list[str]:
        """The integrations this process configured: every public field that is set (for `/healthz`)."""
        return sorted(
            name
            for name, value in vars(self).items()
            if not name.startswith("_") and name != "service_name" and value is not None
        )

    def force_flush(self, timeout_millis: int = 5_000) -> None:
        """Send what is buffered now, waiting at most `timeout_millis`; never raises."""
        if self.tracer_provider is None:
            return
        try:
            self.tracer_provider.force_flush(timeout_millis)
        except Exception:
            log.warning("telemetry flush failed", exc_info=True)

    def shutdown(self) -> None:
        """Flush and stop the exporters; never raises."""
        if self.tracer_provider is None:
            return
        try:
            self.tracer_provider.shutdown()
        except Exception:
            log.warning("telemetry shutdown failed", exc_info=True)


def configure(
    settings: TelemetrySettings, *, service_name: str, span_exporter: SpanExporter | None = None
) -> Telemetry:
    """Build the process's telemetry from its settings; every integration is off unless configured.

    Args:
        settings: the service's settings.
        service_name: the default service name (`OTEL_SERVICE_NAME` overrides it).
        span_exporter: forces tracing on with this exporter (tests pass an in-memory one).
    """
    name = settings.otel_service_name or service_name
    if span_exporter is None and not settings.tracing_enabled:
        log.info("tracing off: set OTEL_EXPORTER_OTLP_ENDPOINT or HONEYCOMB_API_KEY to turn it on")
        return Telemetry(service_name=name)
    provider = build_tracer_provider(settings, service_name=name, exporter=span_exporter)
    log.info(
        "tracing on: exporting to %s",
        settings.otlp_traces_endpoint() if span_exporter is None else "a test exporter",
    )
    return Telemetry(service_name=name, tracer_provider=provider)
