"""The in-process X-Ray exporter: SigV4-signed OTLP that X-Ray's endpoint (a loopback stand-in) accepts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.credentials import Credentials, RefreshableCredentials
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.xray.otlp import build_xray_otlp_exporter, build_xray_otlp_processor, default_endpoint
from tests.standins.xray_otlp import ACCESS_KEY, REGION, SECRET_KEY, XrayOtlpReceiver

GOOD = Credentials(ACCESS_KEY, SECRET_KEY)


@pytest.fixture
def xray() -> Iterator[XrayOtlpReceiver]:
    receiver = XrayOtlpReceiver().start()
    yield receiver
    receiver.stop()


def finished_spans(service: str = "activities") -> list[ReadableSpan]:
    """A parent and a child span of one trace, carrying the attributes X-Ray reads."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("GET /activities/home") as root:
        root.set_attribute("enduser.id", "andrewbrown")
        root.set_attribute("aws.xray.annotations", ["http.route", "enduser.id"])
        with tracer.start_as_current_span("SELECT activities"):
            pass
    return list(memory.get_finished_spans())


def exporter(xray: XrayOtlpReceiver, credentials: Credentials | None = GOOD, **kwargs: Any) -> Any:
    return build_xray_otlp_exporter(
        region=REGION,
        endpoint=xray.traces_url,
        timeout_s=2.0,
        credentials_provider=lambda: credentials,
        **kwargs,
    )


def test_signed_spans_reach_xray_with_their_trace_ids_and_attributes(xray: XrayOtlpReceiver) -> None:
    """Spans ended under the X-Ray processor arrive signed and decoded, ids and attributes intact."""
    provider = TracerProvider(resource=Resource.create({"service.name": "activities"}))
    provider.add_span_processor(
        build_xray_otlp_processor(
            region=REGION,
            endpoint=xray.traces_url,
            timeout_s=2.0,
            max_queue_size=64,
            schedule_delay_ms=50,
            credentials_provider=lambda: GOOD,
        )
    )
    with provider.get_tracer("test").start_as_current_span("GET /activities/home") as span:
        span.set_attribute("enduser.id", "andrewbrown")
        span.set_attribute("aws.xray.annotations", ["enduser.id"])
        trace_id = format(span.get_span_context().trace_id, "032x")
    assert provider.force_flush(5000)
    [received] = xray.trace(trace_id)
    assert (received.service, received.name) == ("activities", "GET /activities/home")
    assert received.attributes == {"enduser.id": "andrewbrown", "aws.xray.annotations": ["enduser.id"]}
    assert xray.counts() == (1, 0)
    assert f"/{REGION}/xray/aws4_request," in xray.requests[0]["authorization"]
    provider.shutdown()


@pytest.mark.parametrize("gzip", [True, False])
def test_the_signed_body_is_the_body_sent(xray: XrayOtlpReceiver, gzip: bool) -> None:
    """Compressed or not, the signature covers the bytes on the wire and names the encoding it covers."""
    spans = finished_spans()
    assert exporter(xray, gzip=gzip).export(spans) is SpanExportResult.SUCCESS
    assert xray.counts() == (1, 0)
    [headers] = xray.requests
    assert ("content-encoding" in headers) is gzip
    signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert ("content-encoding" in signed) is gzip
    assert {span.span_id for span in xray.snapshot()} == {format(s.context.span_id, "016x") for s in spans}


def test_wrong_secret_is_refused_and_reported_without_raising_or_hanging(xray: XrayOtlpReceiver) -> None:
    """A 403 for a bad signature makes the export fail at once: no exception, no retry, no spans kept."""
    started = time.monotonic()
    result = exporter(xray, Credentials(ACCESS_KEY, "not-the-secret")).export(finished_spans())
    assert result is SpanExportResult.FAILURE
    assert time.monotonic() - started < 2.0
    assert xray.counts() == (0, 1) and xray.reasons == ["signature does not match"]
    assert xray.snapshot() == []


def test_missing_credentials_send_nothing_and_warn(
    xray: XrayOtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """With no credentials in the chain the export fails quietly: a warning, no request, no exception."""
    caplog.set_level(logging.WARNING, logger="observability.xray.otlp")
    assert exporter(xray, None).export(finished_spans()) is SpanExportResult.FAILURE
    assert xray.counts() == (0, 0)
    assert any("no AWS credentials found" in r.getMessage() for r in caplog.records)


def test_a_failing_credential_chain_is_logged_not_raised(
    xray: XrayOtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A credential provider that raises (a broken profile) fails the export with a warning, nothing more."""

    def broken() -> Credentials:
        raise RuntimeError("profile file unreadable")

    built = build_xray_otlp_exporter(
        region=REGION, endpoint=xray.traces_url, timeout_s=2.0, credentials_provider=broken
    )
    assert built.export(finished_spans()) is SpanExportResult.FAILURE
    assert xray.counts() == (0, 0)
    assert any("resolving AWS credentials failed" in r.getMessage() for r in caplog.records)


def test_credentials_are_resolved_on_the_export_thread_once(xray: XrayOtlpReceiver) -> None:
    """Nothing is resolved at build time; the batch thread resolves once, and later batches reuse it."""
    threads: list[str] = []

    def provider() -> Credentials:
        threads.append(threading.current_thread().name)
        return GOOD

    processor = build_xray_otlp_processor(
        region=REGION,
        endpoint=xray.traces_url,
        timeout_s=2.0,
        max_queue_size=64,
        schedule_delay_ms=20,
        credentials_provider=provider,
    )
    assert threads == []
    for batch in range(2):
        for span in finished_spans():
            processor.on_end(span)
        deadline = time.monotonic() + 5
        while xray.counts()[0] <= batch and time.monotonic() < deadline:
            time.sleep(0.02)
    assert xray.counts() == (2, 0)
    assert len(threads) == 1 and threads[0] != threading.main_thread().name
    processor.shutdown()


def test_rotated_credentials_are_picked_up(xray: XrayOtlpReceiver) -> None:
    """Expiring credentials are refreshed through botocore; the next request is signed with the new ones."""
    xray.secrets = {"AKIDFIRST": "first-secret", "AKIDSECOND": "second-secret"}
    clock = [datetime.now(UTC)]

    def second() -> dict[str, str]:
        expiry = clock[0] + timedelta(hours=1)
        return {
            "access_key": "AKIDSECOND",
            "secret_key": "second-secret",
            "token": "token-2",
            "expiry_time": expiry.isoformat(),
        }

    rotating = RefreshableCredentials(
        "AKIDFIRST",
        "first-secret",
        "token-1",
        clock[0] + timedelta(hours=1),
        second,
        "test",
        lambda: clock[0],
    )
    built = exporter(xray, rotating)
    assert built.export(finished_spans()) is SpanExportResult.SUCCESS
    clock[0] += timedelta(minutes=55)  # inside botocore's refresh window
    assert built.export(finished_spans()) is SpanExportResult.SUCCESS
    assert xray.access_keys == ["AKIDFIRST", "AKIDSECOND"]
    assert [r["x-amz-security-token"] for r in xray.requests] == ["token-1", "token-2"]


def test_main_backend_headers_never_reach_aws(
    xray: XrayOtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`OTEL_EXPORTER_OTLP_HEADERS` (the Honeycomb key) is for the main backend: X-Ray requests drop it."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=secret-key")
    assert exporter(xray).export(finished_spans()) is SpanExportResult.SUCCESS
    [headers] = xray.requests
    assert "x-honeycomb-team" not in headers and "secret-key" not in str(headers)


def test_default_endpoint_is_regional_xray() -> None:
    """Without an override the exporter targets X-Ray's OTLP traces endpoint in the given region."""
    assert default_endpoint("eu-west-2") == "https://xray.eu-west-2.amazonaws.com/v1/traces"


def test_a_missing_region_stops_startup() -> None:
    """The region is part of the signature: building without one is a configuration error, said clearly."""
    with pytest.raises(ValueError, match="AWS_REGION"):
        build_xray_otlp_exporter(region="", timeout_s=1.0, credentials_provider=lambda: GOOD)
