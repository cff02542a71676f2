"""The daemon stand-in rejects what the real daemon and X-Ray would, so e2e checks can fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.standins.xray_daemon import XRayDaemon

HEADER = b'{"format": "json", "version": 1}\n'
TRACE = "1-5759e988-bd862e3fe1be46a994272793"


def segment(**changes: Any) -> dict[str, Any]:
    base = {"name": "users", "id": "53995c3f42cd8ad8", "trace_id": TRACE, "start_time": 1.0, "end_time": 2.0}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def daemon() -> Iterator[XRayDaemon]:
    listener = XRayDaemon().start()
    yield listener
    listener.stop()


def test_valid_segment_and_streamed_subsegment_make_one_tree(daemon: XRayDaemon) -> None:
    """A segment and a subsegment streamed on its own are accepted and assembled into one tree."""
    daemon.receive(HEADER + json.dumps(segment()).encode())
    streamed = segment(name="db", id="1111111111111111", type="subsegment", parent_id="53995c3f42cd8ad8")
    daemon.receive(HEADER + json.dumps(streamed).encode())
    assert daemon.invalid == []
    [tree] = daemon.trace(TRACE)
    assert [sub["name"] for sub in tree["subsegments"]] == ["db"]


@pytest.mark.parametrize(
    "datagram",
    [
        json.dumps(segment()).encode(),
        b'{"format": "xml"}\n' + json.dumps(segment()).encode(),
        HEADER + json.dumps(segment(id="ZZZZZZZZZZZZZZZZ")).encode(),
        HEADER + json.dumps(segment(trace_id="x1-5759e988-bd862e3fe1be46a994272793")).encode(),
        HEADER + json.dumps(segment(end_time=None)).encode(),
        HEADER + json.dumps(segment(type="subsegment")).encode(),
        HEADER + json.dumps(segment(name="")).encode(),
        HEADER + json.dumps(segment(annotations={"bad key": 1})).encode(),
        HEADER + b"{not json",
    ],
)
def test_invalid_documents_are_flagged(daemon: XRayDaemon, datagram: bytes) -> None:
    """Bad protocol header, non-hex id, unanchored trace id, no end, orphan subsegment, schema breaks."""
    daemon.receive(datagram)
    assert len(daemon.invalid) == 1 and daemon.documents == []
