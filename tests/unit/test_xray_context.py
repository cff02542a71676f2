"""The contextvars X-Ray context keeps concurrent requests and concurrent calls apart, on any loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
import uvloop

from observability.settings import TelemetrySettings
from observability.xray.sdk import XRay, configure_xray
from tests.xray_stub import StubEmitter


def recorder(emitter: StubEmitter, threshold: int = 20) -> XRay:
    xray = configure_xray(
        TelemetrySettings(xray_streaming_threshold=threshold), service_name="svc", emitter=emitter
    )
    assert xray is not None
    return xray


async def one_request(xray: XRay, number: int, calls: int) -> None:
    segment = xray.recorder.begin_segment("svc", traceid=f"1-00000000-{number:024x}", sampling=1)
    segment.put_annotation("request", number)

    async def call(index: int) -> None:
        subsegment = xray.begin_subsegment(f"call-{index}")
        await asyncio.sleep(0.001 * (index % 3))
        xray.end_subsegment(subsegment)

    await asyncio.gather(*(call(index) for index in range(calls)))
    xray.recorder.end_segment()


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_concurrent_requests_and_calls_stay_apart(loop: str) -> None:
    """50 concurrent requests of 4 concurrent calls each give 50 segments of 4 sibling subsegments."""
    emitter = StubEmitter()
    xray = recorder(emitter)

    async def main() -> None:
        await asyncio.gather(*(one_request(xray, number, 4) for number in range(50)))

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(main())
    assert len(emitter.documents) == 50
    for document in emitter.documents:
        number = document["annotations"]["request"]
        assert document["trace_id"] == f"1-00000000-{number:024x}"
        subsegments = document["subsegments"]
        assert sorted(s["name"] for s in subsegments) == [f"call-{i}" for i in range(4)]
        assert all(s["parent_id"] == document["id"] and "subsegments" not in s for s in subsegments)


async def test_many_subsegments_are_streamed_in_small_documents() -> None:
    """A request with 500 calls reaches the daemon as several documents under 64 kB, none lost."""
    emitter = StubEmitter()
    xray = recorder(emitter, threshold=20)
    await one_request(xray, 7, 500)
    streamed = [d for d in emitter.documents if d.get("type") == "subsegment"]
    [segment] = [d for d in emitter.documents if d.get("type") != "subsegment"]
    assert len(emitter.documents) > 1 and max(emitter.sizes) < 64_000
    names = {s["name"] for s in streamed} | {s["name"] for s in segment.get("subsegments", [])}
    assert names == {f"call-{i}" for i in range(500)}
    assert all(d["parent_id"] == segment["id"] and d["trace_id"] == segment["trace_id"] for d in streamed)


async def test_nothing_open_means_nothing_recorded() -> None:
    """Outside a segment, opening a subsegment records nothing and raises nothing."""
    emitter = StubEmitter()
    xray = recorder(emitter)
    assert xray.begin_subsegment("orphan") is None
    xray.end_subsegment(None)
    assert emitter.documents == []


def test_segment_block_restores_the_callers_entities() -> None:
    """An app called in-process inside a caller's subsegment leaves the caller's stack as it was."""
    emitter = StubEmitter()
    xray = recorder(emitter)
    outer = xray.recorder.begin_segment("caller", traceid="1-00000000-" + "1" * 24, sampling=1)
    sub = xray.begin_subsegment("call")
    inner = xray.recorder.begin_segment("callee", traceid="1-00000000-" + "1" * 24, sampling=1)
    xray.recorder.end_segment()
    xray.recorder.context.restore((outer, sub))
    assert inner is not outer
    xray.end_subsegment(sub)
    xray.recorder.end_segment()
    assert [d["name"] for d in emitter.documents] == ["callee", "caller"]
    assert json.dumps(emitter.documents[1]["subsegments"][0]["name"]) == '"call"'


def test_database_errors_are_recorded_without_parameters() -> None:
    """An SQLAlchemy error recorded on a segment keeps the driver's message, never the bound values."""
    from sqlalchemy.exc import IntegrityError

    emitter = StubEmitter()
    xray = recorder(emitter)
    segment = xray.recorder.begin_segment("svc", traceid="1-00000000-" + "2" * 24, sampling=1)
    error = IntegrityError("INSERT INTO users VALUES (?)", ("s3cret-value",), Exception("UNIQUE failed"))
    assert "s3cret-value" in str(error)
    try:
        raise error
    except IntegrityError as raised:
        xray.record_exception(segment, raised)
    xray.recorder.end_segment()
    [document] = emitter.documents
    assert "s3cret-value" not in json.dumps(document)
    assert document["cause"]["exceptions"][0]["message"] == "Exception: UNIQUE failed"
