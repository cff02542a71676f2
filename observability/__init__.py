"""Telemetry for the services, behind one front door; a folder per backend behind it.

    from observability import NATIVE_TELEMETRY_OFF, configure

    telemetry = configure(settings, service_name="users")    # once per process
    telemetry.instrument_app(app)                            # per app: every middleware, in order
    telemetry.http_client(base_url)                          # per downstream: traced client
    telemetry.instrument_engine(engine)                      # per database engine
    telemetry.serve_browser(app, settings, max_body_bytes=n) # the public app: browsers' config, relay

Faults carried in baggage (`faults/`, README "Break it on purpose") are applied by `instrument_app`
and `instrument_engine` when `FAULTS_ENABLED=true`; the services do nothing for them.

Backends: `otel/` (spans, propagation, the server and client instrumentation), `xray/` (X-Ray from
the same spans; the aws-xray-sdk path in `xray/sdk/`), `rollbar/` (unhandled errors), `logs/` (JSON
lines, the access line, CloudWatch), `faults/` (injected delays and errors), `browser/` (the page's
config, its OTLP relay, CORS of trace headers). Each keeps its settings beside it;
`settings.TelemetrySettings` puts them together (`browser.BrowserSettings` adds the browser's, for the
public gateway only).
"""

from observability.browser import BrowserSettings
from observability.checks import check_url
from observability.faults.middleware import SECRET_HEADER as FAULT_SECRET_HEADER
from observability.links import trace_links
from observability.logs.formatter import configure_logging, current_trace_id
from observability.otel.server import NATIVE_TELEMETRY_OFF, Identify
from observability.otel.transports import TransportName
from observability.settings import TelemetrySettings
from observability.telemetry import SpanAttributes, SpanMaker, Telemetry, configure

__all__ = [
    "FAULT_SECRET_HEADER",
    "NATIVE_TELEMETRY_OFF",
    "BrowserSettings",
    "Identify",
    "SpanAttributes",
    "SpanMaker",
    "Telemetry",
    "TelemetrySettings",
    "TransportName",
    "check_url",
    "configure",
    "configure_logging",
    "current_trace_id",
    "trace_links",
]
