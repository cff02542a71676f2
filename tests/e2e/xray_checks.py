"""Reading X-Ray trees as data: who called whom, checked against the OTel trace of the same request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import poll, traced_env
from tests.standins.otlp import OtlpReceiver, ReceivedSpan
from tests.standins.xray_daemon import XRayDaemon, walk
from tests.xray_stub import rules_file

HOME = {"gateway", "activities", "users"}
HOME_EDGES = {("gateway", "activities"), ("activities", "users")}


def trace_id_of(response: httpx.Response) -> str:
    """The OTel trace id the gateway answered with (`traceresponse`)."""
    return response.headers["traceresponse"].split("-")[1]


def xray_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def xray_edges(segments: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(caller, callee) for each segment whose parent is a remote subsegment of another service's tree."""
    owner = {entity["id"]: segment for segment in segments for entity in walk(segment)}
    found = set()
    for segment in segments:
        caller = owner.get(segment.get("parent_id", ""))
        if caller is not None:
            found.add((caller["name"], segment["name"]))
    return found


def wait_for_tree(
    daemon: XRayDaemon, trace_id: str, edges: set[tuple[str, str]], *, timeout: float = 15
) -> list[dict[str, Any]]:
    """The assembled segments of a trace once every expected edge is there (and nothing in progress)."""

    def complete() -> list[dict[str, Any]] | None:
        segments = daemon.trace(xray_id(trace_id))
        done = edges <= xray_edges(segments) and all(not s.get("in_progress") for s in segments)
        return segments if done else None

    return poll(complete, timeout=timeout, what=f"X-Ray edges {sorted(edges)} of {trace_id}")


def assert_mirrors_otel(segments: list[dict[str, Any]], otlp: OtlpReceiver, trace_id: str) -> None:
    """Every segment is the OTel server span of its service; every parent is the caller's client span."""

    wanted = {segment["id"] for segment in segments} | {s["parent_id"] for s in segments if "parent_id" in s}

    def all_named() -> list[ReceivedSpan] | None:
        # Each service exports in its own batches: wait for every span a segment names, callers' too.
        spans = otlp.trace(trace_id)
        return spans if wanted <= {span.span_id for span in spans} else None

    by_id = {
        span.span_id: span for span in poll(all_named, what=f"OTel spans {sorted(wanted)} of {trace_id}")
    }
    for segment in segments:
        server = by_id[segment["id"]]
        assert (server.kind, server.service) == ("SERVER", segment["name"])
        if "parent_id" in segment:
            client = by_id[segment["parent_id"]]
            assert client.kind == "CLIENT" and server.parent_span_id == client.span_id


def xray_env(tmp: Path, otlp: OtlpReceiver, **xray: str) -> dict[str, str]:
    """The services' environment for an X-Ray test: spans exported to `otlp` within 0.1 s, every request
    sampled by a rules file in `tmp`, and the variables of the X-Ray path under test (`xray`)."""
    return traced_env(otlp.endpoint, XRAY_SAMPLING_RULES=str(rules_file(tmp)), **xray)


def daemon_env(tmp: Path, otlp: OtlpReceiver, daemon: XRayDaemon, loop: str) -> dict[str, str]:
    """`xray_env` for the aws-xray-sdk path: segments to `daemon`, the services on event loop `loop`."""
    return xray_env(tmp, otlp, XRAY_EXPORTER="sdk", AWS_XRAY_DAEMON_ADDRESS=daemon.address, SERVER_LOOP=loop)


def requests_in_parallel(url: str, count: int = 20) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: httpx.get(url, timeout=10), range(count)))
