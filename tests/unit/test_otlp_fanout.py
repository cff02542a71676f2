"""One encoding for two OTLP endpoints: the plain backend and X-Ray's signed one get the same spans."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from unittest import mock

import pytest
from botocore.credentials import Credentials
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from observability.otel import encoding, fanout
from observability.otel.fanout import Destination, FanOutExporter
from observability.otel.provider import build_tracer_provider
from observability.settings import TelemetrySettings
from observability.xray.otlp import build_xray_otlp_exporter
from tests.e2e.harness import free_port
from tests.standins.cloudwatch import HungEndpoint
from tests.standins.otlp import OtlpReceiver
from tests.standins.xray_otlp import ACCESS_KEY, REGION, SECRET_KEY, XrayOtlpReceiver
from tests.unit.test_xray_otlp import finished_spans


@pytest.fixture
def backends() -> Iterator[tuple[OtlpReceiver, XrayOtlpReceiver]]:
    plain, xray = OtlpReceiver().start(), XrayOtlpReceiver().start()
    yield plain, xray
    plain.stop()
    xray.stop()


def xray_exporter(xray: XrayOtlpReceiver) -> OTLPSpanExporter:
    good = Credentials(ACCESS_KEY, SECRET_KEY)
    return build_xray_otlp_exporter(
        region=REGION, endpoint=xray.traces_url, timeout_s=2.0, credentials_provider=lambda: good
    )


def wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def test_each_batch_is_encoded_once_and_both_endpoints_receive_it(
    backends: tuple[OtlpReceiver, XrayOtlpReceiver],
) -> None:
    """A batch is encoded once; the plain receiver and the SigV4-checking one both decode its spans."""
    plain, xray = backends
    exporter = FanOutExporter(
        [
            Destination("otlp", OTLPSpanExporter(endpoint=f"{plain.endpoint}/v1/traces", timeout=2.0)),
            Destination("xray", xray_exporter(xray)),
        ]
    )
    spans = finished_spans()
    with mock.patch.object(fanout, "encode", wraps=encoding.encode) as encode:
        assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert encode.call_count == 1
    assert exporter.force_flush(5_000)
    names = sorted(s.name for s in spans)
    assert sorted(s.name for s in plain.spans) == names
    assert sorted(s.name for s in xray.spans) == names and xray.counts() == (1, 0)
    assert {s.trace_id for s in plain.spans} == {s.trace_id for s in xray.spans}
    exporter.shutdown(2_000)


def test_an_endpoint_that_is_down_holds_a_bounded_queue_and_never_stops_the_other(
    backends: tuple[OtlpReceiver, XrayOtlpReceiver],
) -> None:
    """With X-Ray's endpoint hung the plain backend gets every batch; X-Ray's queue drops the excess."""
    plain, _ = backends
    hung = HungEndpoint(free_port()).start()
    try:
        down = Destination(
            "xray", OTLPSpanExporter(endpoint=f"{hung.endpoint}/v1/traces", timeout=1.0), max_batches=2
        )
        exporter = FanOutExporter(
            [Destination("otlp", OTLPSpanExporter(endpoint=f"{plain.endpoint}/v1/traces", timeout=2.0)), down]
        )
        results = [exporter.export(finished_spans()) for _ in range(6)]
        wait_for(lambda: len(plain.spans) == 12)
        assert len(plain.spans) == 12  # 6 batches of 2 spans
        assert SpanExportResult.FAILURE in results  # X-Ray's batches beyond its queue were dropped
        assert down._queue.qsize() <= 2
        started = time.monotonic()
        exporter.shutdown(1_500)
        assert time.monotonic() - started < 3.0  # shutdown is bounded even with the endpoint hung
    finally:
        hung.stop()


def test_a_queue_smaller_than_a_batch_still_exports(
    backends: tuple[OtlpReceiver, XrayOtlpReceiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`OTEL_BSP_MAX_QUEUE_SIZE` below 512 makes batches that size, where the SDK refused to start."""
    plain, _ = backends
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", plain.endpoint)
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100")
    provider = build_tracer_provider(TelemetrySettings(), service_name="users")
    with provider.get_tracer("test").start_as_current_span("GET /users"):
        pass
    assert provider.force_flush(5_000)
    assert [s.name for s in plain.spans] == ["GET /users"]
    provider.shutdown()


@pytest.mark.parametrize(("batch", "requests"), [(None, 1), ("2", 3)])
def test_a_batch_sends_at_most_otel_bsp_max_export_batch_size_spans(
    backends: tuple[OtlpReceiver, XrayOtlpReceiver],
    monkeypatch: pytest.MonkeyPatch,
    batch: str | None,
    requests: int,
) -> None:
    """Five spans go out in one request by default, in three with `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2`."""
    plain, _ = backends
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", plain.endpoint)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")  # only a full batch or the flush sends
    if batch is not None:
        monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", batch)
    provider = build_tracer_provider(TelemetrySettings(), service_name="users")
    for number in range(5):
        provider.get_tracer("test").start_span(f"span {number}").end()
    assert provider.force_flush(5_000)
    assert sorted(s.name for s in plain.spans) == [f"span {number}" for number in range(5)]
    assert len(plain.requests) == requests
    provider.shutdown()


@dataclass
class BodiesKept(XrayOtlpReceiver):
    """The signed receiver, keeping each request's body as it arrived."""

    bodies: list[bytes] = field(default_factory=list)

    def authorize(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
        self.bodies.append(body)
        return super().authorize(method, path, headers, body)


def test_a_gzip_endpoint_gets_the_batch_compressed_fast() -> None:
    """X-Ray's body is the encoded batch gzipped at level 1 (header flag 4), signed as sent."""
    xray = BodiesKept().start()
    try:
        exporter = FanOutExporter([Destination("xray", xray_exporter(xray))])
        spans = finished_spans()
        assert exporter.export(spans) is SpanExportResult.SUCCESS and exporter.force_flush(5_000)
        [body] = xray.bodies
        assert gzip.decompress(body) == encoding.encode(spans) and body[8] == 4  # XFL 4: fastest
        assert xray.counts() == (1, 0)
        exporter.shutdown(2_000)
    finally:
        xray.stop()
