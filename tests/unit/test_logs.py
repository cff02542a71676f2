"""JSON log lines: trace ids, user and route stamped on each line, secrets scrubbed."""

from __future__ import annotations

import json
import logging
from typing import Any

from opentelemetry import baggage, context
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.trace import TracerProvider

from observability.logs.formatter import JsonFormatter, current_scope
from observability.redact import scrub_headers, scrub_query, scrub_text
from observability.xray.header import xray_trace_id


class _Route:
    path = "/users/{handle}"


def format_record(message: str, *args: object, **extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    line = JsonFormatter("users").format(record)
    assert "\n" not in line
    decoded: dict[str, Any] = json.loads(line)
    return decoded


def test_xray_trace_id_is_the_otel_trace_id_in_xray_form() -> None:
    """The X-Ray form is `1-`, the first 8 hex digits, `-`, the remaining 24."""
    assert xray_trace_id(0x5F3C1A2B00000000000000001234ABCD) == "1-5f3c1a2b-00000000000000001234abcd"


def test_a_line_inside_a_span_carries_trace_user_and_route() -> None:
    """Inside a request's span, a line has the trace and span ids, the X-Ray id, the user and the route."""
    tracer = TracerProvider(id_generator=AwsXRayIdGenerator()).get_tracer(__name__)
    token = context.attach(baggage.set_baggage("enduser.id", "worf"))
    scope_token = current_scope.set({"type": "http", "route": _Route()})
    try:
        with tracer.start_as_current_span("request") as span:
            line = format_record("hello %s", "there", http_status=200)
    finally:
        current_scope.reset(scope_token)
        context.detach(token)
    ids = span.get_span_context()
    assert line["message"] == "hello there" and line["service"] == "users" and line["level"] == "INFO"
    assert line["trace_id"] == f"{ids.trace_id:032x}" and line["span_id"] == f"{ids.span_id:016x}"
    assert line["xray_trace_id"] == xray_trace_id(ids.trace_id)
    assert (line["user"], line["route"], line["http_status"]) == ("worf", "/users/{handle}", 200)
    assert line["timestamp"].endswith("+00:00")


def test_a_line_outside_any_request_has_no_trace_fields() -> None:
    """Start-up lines carry no empty or fake trace ids."""
    line = format_record("starting")
    assert not {"trace_id", "span_id", "xray_trace_id", "user", "route"} & set(line)


def test_secrets_are_scrubbed_from_messages_and_exceptions() -> None:
    """Bearer tokens and password values never reach a log line, in the message or the exception."""
    try:
        raise ValueError("login failed for password=hunter2")
    except ValueError as error:
        record = logging.LogRecord(
            "app", logging.ERROR, __file__, 1, "auth %s", ("Bearer abc.def.ghi",), None
        )
        record.exc_info = (type(error), error, error.__traceback__)
    line = json.loads(JsonFormatter("gateway").format(record))
    raw = json.dumps(line)
    assert "abc.def.ghi" not in raw and "hunter2" not in raw
    assert line["exception"]["type"] == "ValueError" and "[REDACTED]" in line["exception"]["message"]


def test_secret_headers_and_parameters_are_redacted() -> None:
    """Authorization, Cookie and token-like headers and query parameters are replaced, others kept."""
    headers = scrub_headers(
        [(b"authorization", b"Bearer x"), (b"cookie", b"s=1"), (b"x-api-token", b"t"), (b"accept", b"*/*")]
    )
    assert headers == {
        "authorization": "[REDACTED]",
        "cookie": "[REDACTED]",
        "x-api-token": "[REDACTED]",
        "accept": "*/*",
    }
    assert scrub_query("handle=worf&access_token=abc") == "handle=worf&access_token=[REDACTED]"
    assert scrub_text('{"password": "p4ss"}') == '{"password": "[REDACTED]"}'


def test_uvicorns_copy_of_an_already_logged_error_is_dropped() -> None:
    """uvicorn's traceback is dropped for errors the middleware logged in the trace, kept for others."""
    from observability.logs.formatter import REPORTED, _DropUvicornDuplicate

    reported, other = RuntimeError("logged"), RuntimeError("never seen by the middleware")
    setattr(reported, REPORTED, True)

    def uvicorn_record(error: BaseException) -> logging.LogRecord:
        exc_info = (type(error), error, None)
        return logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI", None, exc_info
        )

    assert not _DropUvicornDuplicate().filter(uvicorn_record(reported))
    assert _DropUvicornDuplicate().filter(uvicorn_record(other))
