"""Telemetry for the services, behind one front door; a folder per backend behind it.

    from observability import NATIVE_TELEMETRY_OFF, configure

    telemetry = configure(settings, service_name="users")    # once per process
    telemetry.instrument_app(app)                            # per app: every middleware, in order
    telemetry.http_client(base_url)                          # per downstream: traced client
    telemetry.instrument_engine(engine)                      # per database engine

Backends: `otel/` (spans, propagation, the server and client instrumentation), `xray/` (X-Ray from
the same spans; the aws-xray-sdk path in `xray/sdk/`), `rollbar/` (unhandled errors), `logs/` (JSON
lines, the access line, CloudWatch). Each keeps its settings beside it; `settings.TelemetrySettings`
puts them together.
"""

from observability.checks import check_url
from observability.logs.formatter import configure_logging
from observability.otel.server import NATIVE_TELEMETRY_OFF, Identify
from observability.otel.transports import TransportName
from observability.settings import TelemetrySettings
from observability.telemetry import SpanAttributes, SpanMaker, Telemetry, configure

__all__ = [
    "NATIVE_TELEMETRY_OFF",
    "Identify",
    "SpanAttributes",
    "SpanMaker",
    "Telemetry",
    "TelemetrySettings",
    "TransportName",
    "check_url",
    "configure",
    "configure_logging",
]
