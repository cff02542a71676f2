"""The OTLP stand-in reads OTLP/HTTP JSON as browsers send it: hex ids, camelCase keys, integer enums."""

from __future__ import annotations

import json

import pytest
from google.protobuf.message import DecodeError

from tests.standins.otlp import decode

TRACE_ID = "5f3c1a2b00000000a3ce929d0e0e4736"


def browser_export(**span: object) -> bytes:
    base = {"traceId": TRACE_ID, "spanId": "00f067aa0ba902b7", "name": "HTTP GET", "kind": 3}
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                    "scopeSpans": [{"scope": {"name": "fetch"}, "spans": [{**base, **span}]}],
                }
            ]
        }
    ).encode()


def test_json_export_decodes_to_the_same_span_as_protobuf_would() -> None:
    """Hex trace and span ids come out as sent, with the service, kind, parent and attributes."""
    body = browser_export(
        parentSpanId="1111111111111111",
        attributes=[{"key": "http.response.status_code", "value": {"intValue": "200"}}],
    )
    [span] = decode(body, "application/json")
    assert (span.service, span.kind, span.trace_id) == ("web", "CLIENT", TRACE_ID)
    assert (span.span_id, span.parent_span_id) == ("00f067aa0ba902b7", "1111111111111111")
    assert span.attributes == {"http.response.status_code": 200}


@pytest.mark.parametrize("body", [b"not json", browser_export(traceId="xyz"), b'{"resourceSpans": 3}'])
def test_malformed_json_is_a_decode_error(body: bytes) -> None:
    """A body that is not an OTLP JSON export is rejected, as the protobuf path rejects bad bytes."""
    with pytest.raises(DecodeError):
        decode(body, "application/json; charset=utf-8")
