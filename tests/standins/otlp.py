"""An OTLP/HTTP traces receiver that decodes protobuf and JSON bodies, as Honeycomb or a collector would.

Browsers send OTLP/HTTP JSON (`@opentelemetry/exporter-trace-otlp-http`), whose ids are hex, not the
base64 of protobuf's JSON mapping: `decode_json` converts them before parsing.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.standins.http import LoopbackServer, QuietHandler
from tests.topology import SpanRecord

KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass(frozen=True)
class ReceivedSpan(SpanRecord):
    """One decoded span, with its service taken from the resource it came in."""

    resource: dict[str, Any]
    status_code: int
    events: tuple[str, ...]
    start_ns: int = 0
    end_ns: int = 0

    @property
    def seconds(self) -> float:
        """How long the span lasted."""
        return (self.end_ns - self.start_ns) / 1e9


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which) if which else None


ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_base64(item: dict[str, Any]) -> None:
    for key in ID_FIELDS:
        if item.get(key):
            item[key] = base64.b64encode(bytes.fromhex(item[key])).decode()


def decode_json(body: bytes) -> ExportTraceServiceRequest:
    """An OTLP/HTTP JSON body as the protobuf request; `DecodeError` if it is not one."""
    try:
        data = json.loads(body)
        for resource_spans in data.get("resourceSpans", []):
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    _hex_ids_to_base64(span)
                    for link in span.get("links", []):
                        _hex_ids_to_base64(link)
        parsed: ExportTraceServiceRequest = ParseDict(
            data, ExportTraceServiceRequest(), ignore_unknown_fields=True
        )
        return parsed
    except (ValueError, TypeError, AttributeError, ParseError) as exc:
        raise DecodeError(f"not an OTLP JSON ExportTraceServiceRequest: {exc}") from exc


def decode(body: bytes, content_type: str = "application/x-protobuf") -> list[ReceivedSpan]:
    """Every span of one `ExportTraceServiceRequest`; `DecodeError` if the body is not one."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        request = decode_json(body)
    else:
        request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        service=str(resource.get("service.name", "")),
                        name=span.name,
                        kind=KINDS.get(span.kind, str(span.kind)),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={kv.key: _value(kv.value) for kv in span.attributes},
                        resource=resource,
                        status_code=span.status.code,
                        events=tuple(event.name for event in span.events),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                    )
                )
    return spans


@dataclass
class OtlpReceiver:
    """Listens on a loopback port; `endpoint` is what `OTEL_EXPORTER_OTLP_ENDPOINT` should say."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    rejected: int = 0
    forbidden: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LoopbackServer = field(default_factory=LoopbackServer)

    @property
    def endpoint(self) -> str:
        return self._server.base_url

    def start(self) -> Self:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if not receiver.authorize("POST", self.path, headers, body):
                    with receiver._lock:
                        receiver.forbidden += 1
                    self.send_error(403)
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                try:
                    spans = decode(body, self.headers.get("Content-Type", ""))
                except DecodeError:
                    with receiver._lock:
                        receiver.rejected += 1
                    self.send_error(400, "not an ExportTraceServiceRequest")
                    return
                with receiver._lock:
                    receiver.spans.extend(spans)
                    receiver.requests.append(headers)
                as_json = self.headers.get("Content-Type", "").startswith("application/json")
                reply = b"{}" if as_json else ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if as_json else "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._server.serve(Handler)
        return self

    def stop(self) -> None:
        self._server.stop()

    def authorize(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether to take a request (headers lower-cased, body as sent); backends with auth override it."""
        return True

    def snapshot(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.snapshot() if span.trace_id == trace_id]
