"""Faults in baggage, applied by the three real apps in one process: where each fires and what it shows."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import FAULT_SECRET_HEADER, telemetry
from observability.telemetry import Telemetry
from services.common.settings import ServiceSettings
from tests.inprocess.wiring import ProcessBoundaryTransport, Running, three_apps
from tests.inprocess.xray_apps import three_apps as xray_apps

SECRET = "let-me-break-it"


@pytest.fixture
async def chain(tmp_path: Path, exporter: InMemorySpanExporter) -> AsyncIterator[Running]:
    """The three apps with faults on and a fault secret at the gateway."""

    def telemetry_for(name: str, settings: ServiceSettings) -> Telemetry:
        return telemetry.configure(settings, service_name=name, span_exporter=exporter)

    async with three_apps(
        tmp_path, telemetry_for, transport=ProcessBoundaryTransport, faults_enabled=True, faults_secret=SECRET
    ) as running:
        exporter.clear()
        yield running
    for item in running.telemetry.values():
        item.shutdown()


def spans_of(running: Running, exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    for item in running.telemetry.values():
        item.force_flush()
    return list(exporter.get_finished_spans())


def server_span(spans: list[ReadableSpan], service: str) -> ReadableSpan:
    [span] = [
        s for s in spans if s.resource.attributes["service.name"] == service and s.kind.name == "SERVER"
    ]
    return span


async def get(running: Running, path: str, faults: str, *, secret: str | None = SECRET) -> httpx.Response:
    headers = {"baggage": faults}
    if secret is not None:
        headers[FAULT_SECRET_HEADER] = secret
    return await running.client.get(path, headers=headers)


async def home_spans(running: Running, exporter: InMemorySpanExporter, faults: str) -> list[ReadableSpan]:
    """The spans of one home feed request with `faults` in its baggage, which was answered with a 200."""
    response = await get(running, "/api/activities/home", faults)
    assert response.status_code == 200
    return spans_of(running, exporter)


def duration(span: ReadableSpan) -> float:
    assert span.end_time is not None and span.start_time is not None
    return (span.end_time - span.start_time) / 1e9


async def test_delay_fires_in_the_addressed_service_only(
    chain: Running, exporter: InMemorySpanExporter
) -> None:
    """`fault.users=delay:150ms` lengthens users' server span and marks it, and no other span."""
    started = time.monotonic()
    response = await get(chain, "/api/activities/home", "fault.users=delay:150ms")
    assert response.status_code == 200 and time.monotonic() - started >= 0.15
    spans = spans_of(chain, exporter)
    users = server_span(spans, "users")
    attributes: Any = users.attributes
    assert attributes["fault.injected"] is True and attributes["fault.kind"] == "delay"
    assert [e.name for e in users.events] == ["fault.injected"]
    assert duration(users) >= 0.15
    assert not [s for s in spans if s is not users and "fault.injected" in (s.attributes or {})]


async def test_accepted_client_baggage_still_never_sets_identity(
    chain: Running, exporter: InMemorySpanExporter
) -> None:
    """A client's faults accepted beside its `enduser.id`: the fault fires, the user is set by no one."""
    spans = await home_spans(chain, exporter, "enduser.id=garek,fault.users=delay:1ms")
    assert server_span(spans, "users").attributes["fault.kind"] == "delay"  # type: ignore[index]
    assert not [s for s in spans if "enduser.id" in (s.attributes or {})]


async def test_injected_status_becomes_a_502_naming_the_service_and_trace(
    chain: Running, exporter: InMemorySpanExporter
) -> None:
    """`status:503` in activities answers 503 there; the gateway's 502 names activities and the trace."""
    response = await get(chain, "/api/activities/home", "fault.activities=status:503")
    assert response.status_code == 502
    body = response.json()
    assert body["service"] == "activities" and "injected fault: status 503" in body["detail"]
    assert body["trace_id"] == response.headers["traceresponse"].split("-")[1]
    activities = server_span(spans_of(chain, exporter), "activities")
    assert activities.status.status_code.name == "ERROR"
    assert "exception" in [e.name for e in activities.events]


async def test_route_faults_fire_only_on_their_route(chain: Running, exporter: InMemorySpanExporter) -> None:
    """`fault.users.get_user` fires on the single-profile route, not on the batch one."""
    assert (await get(chain, "/api/activities/home", "fault.users.get_user=status:500")).status_code == 200
    assert (await get(chain, "/api/activities/@worf", "fault.users.get_user=status:500")).status_code == 502


async def test_slow_query_waits_inside_the_database_span(
    chain: Running, exporter: InMemorySpanExporter
) -> None:
    """`slow_query:150ms` makes users' first statement span at least that long, and marks it."""
    spans = await home_spans(chain, exporter, "fault.users=slow_query:150ms")
    [query] = [s for s in spans if (s.attributes or {}).get("fault.kind") == "slow_query"]
    assert query.resource.attributes["service.name"] == "users" and "db.query.text" in (
        query.attributes or {}
    )
    assert duration(query) >= 0.15


async def test_edge_drops_client_faults_without_the_secret(
    chain: Running, exporter: InMemorySpanExporter
) -> None:
    """Without (or with a wrong) X-Fault-Secret the gateway forwards no fault entry: nothing fires."""
    for secret in (None, "wrong"):
        response = await get(chain, "/api/activities/home", "fault.activities=status:503", secret=secret)
        assert response.status_code == 200
    assert not [s for s in spans_of(chain, exporter) if "fault.injected" in (s.attributes or {})]


async def test_malformed_fault_is_ignored_and_logged(
    chain: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed entry is a warning, never an error answer; the well-formed one beside it still fires."""
    with caplog.at_level(logging.WARNING, logger="cruddur.faults"):
        response = await get(
            chain, "/api/activities/home", "fault.users=explode:1s,fault.users.get_users=status:503"
        )
    assert response.status_code == 502 and response.json()["service"] == "activities"
    [warning] = [r for r in caplog.records if "unknown kind 'explode'" in r.getMessage()]
    assert warning.levelname == "WARNING" and warning.name == "cruddur.faults"


async def test_faults_off_leave_the_request_alone(tmp_path: Path, exporter: InMemorySpanExporter) -> None:
    """With FAULTS_ENABLED unset, a status fault is ignored at every hop."""

    def telemetry_for(name: str, settings: ServiceSettings) -> Telemetry:
        return telemetry.configure(settings, service_name=name, span_exporter=exporter)

    async with three_apps(tmp_path, telemetry_for, transport=ProcessBoundaryTransport) as running:
        response = await get(
            running, "/api/activities/home", "fault.gateway=status:500,fault.users=status:500"
        )
        assert response.status_code == 200
    for item in running.telemetry.values():
        item.shutdown()


async def test_an_edge_with_faults_off_drops_client_faults_before_services_with_them_on(
    tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    """Faults on in activities and users but off at the gateway: a client's fault entry never reaches
    them (the edge drops it without a faults middleware of its own), the user entry neither."""

    def telemetry_for(name: str, settings: ServiceSettings) -> Telemetry:
        if name == "gateway":
            settings = settings.model_copy(update={"faults_enabled": False})
        return telemetry.configure(settings, service_name=name, span_exporter=exporter)

    async with three_apps(
        tmp_path, telemetry_for, transport=ProcessBoundaryTransport, faults_enabled=True
    ) as running:
        exporter.clear()
        response = await get(
            running, "/api/activities/home", "fault.activities=status:503,enduser.id=mallory", secret=None
        )
        assert response.status_code == 200
        spans = spans_of(running, exporter)
    for item in running.telemetry.values():
        item.shutdown()
    assert not [s for s in spans if "fault.injected" in (s.attributes or {})]
    assert "enduser.id" not in (server_span(spans, "activities").attributes or {})


async def test_xray_sdk_segments_carry_the_fault_annotations(tmp_path: Path) -> None:
    """On the aws-xray-sdk path, the segment of the hop where a fault fired is annotated with it."""
    async with xray_apps(tmp_path, faults_enabled=True) as stack:
        response = await stack.gateway.get(
            "/api/activities/home", headers={"baggage": "fault.users=delay:10ms"}
        )
    assert response.status_code == 200
    segments = {d["name"]: d for d in stack.documents() if "annotations" in d}
    assert segments["users"]["annotations"]["fault_injected"] is True
    assert segments["users"]["annotations"]["fault_kind"] == "delay"
    assert "fault_kind" not in segments["activities"]["annotations"]
