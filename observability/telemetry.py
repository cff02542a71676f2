"""The front door: `configure` once per process, then the `Telemetry` it returns instruments each part.

    telemetry = configure(settings, service_name="users")
    app = FastAPI(title="users", lifespan=lifespan, telemetry=NATIVE_TELEMETRY_OFF)
    telemetry.instrument_app(app)                      # every middleware, in the one right order
    client = telemetry.http_client("http://users:8002")  # traced, X-Ray header, the pooled transport
    telemetry.instrument_engine(engine)                # database spans

Services never see a tracer provider, an X-Ray recorder or a reporter: a backend is added here and
in its own folder, not in the services. Nothing is global but what OpenTelemetry makes global (the
propagator), so a test process can build as many apps as it likes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from fastapi import Depends, FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from observability.browser import routes
from observability.browser.settings import BrowserSettings
from observability.faults import db as fault_db
from observability.faults.middleware import FaultMiddleware
from observability.faults.routes import route_faults
from observability.faults.settings import FaultOptions, fault_options
from observability.lifecycle import Lifespan, bounded, flushing
from observability.logs.access import AccessLogMiddleware
from observability.logs.formatter import flush_stdout
from observability.logs.settings import AccessLog
from observability.otel import client, db
from observability.otel.edge import EdgeSampler
from observability.otel.propagation import use_project_propagation
from observability.otel.provider import build_sampler, build_tracer_provider
from observability.otel.sampling import unsampled_span
from observability.otel.server import EdgeMiddleware, Identify, server_spans
from observability.otel.transports import TransportName
from observability.reporting import Reporting, build_reporting, with_reporting
from observability.rollbar.middleware import ErrorReportingMiddleware
from observability.settings import TelemetrySettings
from observability.xray import build_root_sampler, otlp_exporter, otlp_processor, sdk
from observability.xray.settings import XRayMode

log = logging.getLogger(__name__)


class SpanAttributes(Protocol):
    """What a service's own span offers it: attributes, nothing of the tracer behind it."""

    def set_attribute(self, key: str, value: Any) -> None: ...


SpanMaker = Callable[[str], AbstractContextManager[SpanAttributes]]


@dataclass
class Telemetry:
    """What a service reports with; built by `configure`, its parts private to `observability`."""

    service_name: str
    tracer_provider: TracerProvider | None = None
    xray_mode: XRayMode = "off"
    xray_sdk: sdk.XRay | None = None
    reporting: Reporting | None = None
    otlp_endpoint: str | None = None
    faults: FaultOptions = field(default_factory=lambda: FaultOptions(active=False))
    access_log: AccessLog = "all"
    _noop: trace.NoOpTracerProvider = field(default_factory=trace.NoOpTracerProvider, repr=False)

    def instrument_app(self, app: FastAPI, *, edge: bool = False, identify: Identify | None = None) -> None:
        """Every middleware the app needs, in the one right order, and its lifespan's flush and close.

        Outermost first: the OTel server span; at the edge, the user and the trace id in every answer;
        error reporting (a 500 of its own, so it is inside the span); the X-Ray SDK segment (inside
        error reporting, so it records the exception); the access log; the faults the request's
        baggage carries (`FAULTS_ENABLED=true`; with faults off, the edge drops a client's fault entries).
        Faults that name a route fire from an app-wide dependency: include the routers after this.

        Args:
            app: built with `telemetry=NATIVE_TELEMETRY_OFF` (FastAPI's own spans would double ours).
            edge: the public edge: distrusts incoming `enduser.id` baggage, answers with the trace id.
            identify: at the edge, who sent a request (its verified user, or None).
        """
        if getattr(app, "_telemetry", {}).get("tracing", False):
            raise ValueError("build the app with FastAPI(telemetry=NATIVE_TELEMETRY_OFF)")
        lifespan: Lifespan[Any] = flushing(self.force_flush, app.router.lifespan_context)  # type: ignore[arg-type]
        if self.reporting is not None:
            lifespan = with_reporting(self.reporting, lifespan)
        # Last, after reporting's own lines: what a paced stdout still holds (LOG_FLUSH_INTERVAL).
        app.router.lifespan_context = flushing(flush_stdout, lifespan)
        # add_middleware puts the last one added outermost: innermost first.
        reporter = self.reporting.errors if self.reporting is not None else None
        if self.tracer_provider is not None and self.faults.active:
            # Faults ride on baggage, which only the tracing instrumentation reads. With faults off, the
            # edge middleware drops a client's fault entries before they go downstream.
            app.add_middleware(
                FaultMiddleware,
                service=self.service_name,
                active=self.faults.active,
                edge=edge,
                secret=self.faults.secret,
                cap=self.faults.cap,
                reporter=reporter,
            )
            if self.faults.active:
                # Every route included after this runs it (the services include theirs after `new_app`).
                app.router.dependencies.append(Depends(route_faults))
        app.add_middleware(AccessLogMiddleware, mode=self.access_log)
        if self.xray_sdk is not None:
            sdk.instrument_app(app, self.xray_sdk)
        app.add_middleware(ErrorReportingMiddleware, reporter=reporter)
        if edge:
            app.add_middleware(
                EdgeMiddleware,
                identify=identify,
                xray_header=self.xray_mode != "off",
                drop_faults=not self.faults.active,
            )
        if self.tracer_provider is not None:
            server_spans(
                app, self.tracer_provider, trust_incoming_baggage=not edge, xray=self.xray_mode != "off"
            )

    def serve_browser(
        self,
        app: FastAPI,
        settings: BrowserSettings,
        *,
        max_body_bytes: int,
        relay_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """What the public app serves browsers: their telemetry config, the OTLP relay, CORS.

        The page learns where to send its spans and how to link to a trace, never a key: with
        `BROWSER_TRACES_ENDPOINT` unset it exports to `POST /telemetry/v1/traces`, which forwards to
        this process's OTLP endpoint with its headers; cross-origin pages listed in
        `CORS_ALLOWED_ORIGINS` may send `traceparent` and read `traceresponse`.

        Args:
            app: the public app, after `instrument_app`.
            settings: the gateway's settings.
            max_body_bytes: the app's body limit (`MAX_BODY_BYTES`), which bounds the relay's exports too;
                the page is told it and splits its exports to fit.
            relay_transport: the relay's transport (tests route it to a stand-in).
        """
        routes.serve_browser(app, settings, relay_transport, max_body_bytes=max_body_bytes)

    def http_client(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout = client.DEFAULT_TIMEOUT,
        transport: TransportName = "aiohttp",
        inner: httpx.AsyncBaseTransport | None = None,
        keepalive_expiry: float = client.DEFAULT_KEEPALIVE_EXPIRY,
        max_connections: int = 100,
    ) -> httpx.AsyncClient:
        """A client for one downstream service: client spans, trace headers, the pooled transport.

        Args:
            base_url: the downstream's base URL.
            timeout: explicit timeouts (a timeout becomes a 504 at the gateway).
            transport: `aiohttp` or `httpx`, the pooled transport when `inner` is None.
            inner: the innermost transport (tests route it to an in-process app).
            keepalive_expiry: seconds an idle pooled connection is kept; keep it below the
                downstream server's keep-alive, or a request races the server closing it.
            max_connections: the pool's size (a request waits for a free connection at most the
                timeout's `pool` seconds: a 503 "busy" at the gateway).
        """
        stack = client.build_transport(
            tracer_provider=self.tracer_provider,
            inner=inner,
            xray=self.xray_sdk,
            transport_name=transport,
            pool=client.limits(keepalive_expiry, max_connections),
        )
        return httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=stack)

    def instrument_engine(self, engine: Engine | AsyncEngine) -> None:
        """Make every statement of `engine` a span (the statement, never its parameters).

        Args:
            engine: a sync engine (run in worker threads, each call with the request's context)
                or an async one.
        """
        sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        if self.tracer_provider is not None:
            if self.faults.active:
                fault_db.slow_queries(sync)  # wrapped first, so it runs inside the statement's span
            db.trace_engine(sync, self.tracer_provider)
        if self.xray_sdk is not None:
            sdk.record_engine(sync, self.xray_sdk)

    def span(self, name: str) -> AbstractContextManager[SpanAttributes]:
        """A span of the service's own, current inside the block (a no-op one when tracing is off, and the
        current span itself in an unsampled trace, where a new one would not be recorded either)."""
        current = unsampled_span()
        if current is not None:
            return nullcontext(current)
        return self._tracer.start_as_current_span(name)

    @functools.cached_property
    def _tracer(self) -> trace.Tracer:
        """The services' own tracer, asked for once (a provider's `get_tracer` costs about a span)."""
        return (self.tracer_provider or self._noop).get_tracer(f"services.{self.service_name}")

    def active(self) -> list[str]:
        """The integrations on in this process, by name (for `/healthz` and the benchmark report)."""
        reporting = self.reporting
        on = {
            "otel": self.tracer_provider is not None,
            "otlp": self.otlp_endpoint is not None,
            f"xray-{self.xray_mode}": self.xray_mode != "off",
            "rollbar": reporting is not None and reporting.errors.sender is not None,
            "cloudwatch": reporting is not None and reporting.cloudwatch is not None,
            "faults": self.faults.active and self.tracer_provider is not None,
        }
        return [name for name, is_on in on.items() if is_on]

    def force_flush(self, timeout: float = 3.0) -> None:
        """Send what is buffered now, waiting at most `timeout` seconds; never raises."""
        provider = self.tracer_provider
        if provider is not None:
            bounded(lambda: provider.force_flush(int(timeout * 1000)), timeout, "flush")

    def shutdown(self, timeout: float = 3.0) -> None:
        """Flush and stop the exporters, giving up after `timeout` seconds; never raises."""
        if self.xray_sdk is not None:
            self.xray_sdk.shutdown()
        if self.tracer_provider is not None:
            bounded(self.tracer_provider.shutdown, timeout, "shutdown")


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
    all of it off, X-Ray included.

    Args:
        settings: the service's settings.
        service_name: the default service name (`OTEL_SERVICE_NAME` overrides it).
        span_exporter: exports to this instead of OTLP (tests pass an in-memory one).
        xray_emitter: forces the X-Ray SDK path on with this emitter (tests pass a stub one).
    """
    name = settings.otel_service_name or service_name
    reporting = build_reporting(settings, name)
    faults = fault_options(settings, production=settings.is_production)
    if span_exporter is None and not settings.tracing_enabled:
        if settings.xray_mode_requested() != "off" or xray_emitter is not None:
            log.warning("X-Ray is off too: OTEL_SDK_DISABLED=true, and X-Ray takes its ids from OTel")
        if faults.active:
            log.warning("faults off: they travel in baggage, and OTEL_SDK_DISABLED=true turns it off")
        log.info("tracing off: OTEL_SDK_DISABLED=true")
        use_project_propagation(read_xray_header=False)
        return Telemetry(service_name=name, reporting=reporting, access_log=settings.access_log)
    mode: XRayMode = "sdk" if xray_emitter is not None else settings.xray_mode
    xray_sdk = (
        sdk.configure_xray(settings, service_name=name, emitter=xray_emitter) if mode == "sdk" else None
    )
    # Always ours (W3C Level 2), never OTel's default; X-Amzn-Trace-Id crosses hops only with X-Ray on.
    use_project_propagation(read_xray_header=mode != "off")
    sampler: Sampler | None = None
    processors: list[SpanProcessor] = []
    if mode != "off":
        sampler = build_root_sampler(settings, service_name=name)
    also_to: list[tuple[str, OTLPSpanExporter]] = []
    if mode == "otlp" and span_exporter is None:
        also_to.append(("xray", otlp_exporter(settings)))  # batches shared with OTLP: encoded once
    elif mode == "otlp":
        processors.append(otlp_processor(settings))
    if not settings.trust_incoming_sampling:
        sampler = EdgeSampler(sampler or build_sampler(settings))
    provider = build_tracer_provider(
        settings,
        service_name=name,
        exporter=span_exporter,
        sampler=sampler,
        processors=processors,
        also_to=also_to,
    )
    endpoint = settings.otlp_traces_endpoint() if settings.exporting and span_exporter is None else None
    if span_exporter is None and endpoint is None:
        log.info(
            "tracing on, not exporting: set OTEL_EXPORTER_OTLP_ENDPOINT or HONEYCOMB_API_KEY to send spans"
        )
    else:
        log.info("tracing on: exporting to %s", endpoint or "a test exporter")
    if endpoint is not None and settings.honeycomb_api_key is not None and not settings.sends_to_honeycomb():
        log.warning("HONEYCOMB_API_KEY is not sent to %s (only to Honeycomb's own endpoint)", endpoint)
    log.info("X-Ray: %s", mode)
    return Telemetry(
        service_name=name,
        tracer_provider=provider,
        xray_mode=mode,
        xray_sdk=xray_sdk,
        reporting=reporting,
        otlp_endpoint=endpoint,
        faults=faults,
        access_log=settings.access_log,
    )
