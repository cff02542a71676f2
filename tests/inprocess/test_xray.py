"""The three apps in one process: one X-Ray tree per request that mirrors its OTel trace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan

from services.gateway.auth import mint
from services.gateway.settings import DEV_AUTH_SECRET
from tests.inprocess.xray_apps import InProcess, three_apps

NEVER = {"version": 2, "rules": [], "default": {"fixed_target": 0, "rate": 0.0}}


def spans(stack: InProcess) -> list[ReadableSpan]:
    return [span for exporter in stack.exporters.values() for span in exporter.get_finished_spans()]


def walk(entity: dict[str, Any]) -> list[dict[str, Any]]:
    return [entity, *(e for sub in entity.get("subsegments", []) for e in walk(sub))]


async def test_profile_page_is_one_tree_mirroring_the_otel_trace(tmp_path: Path) -> None:
    """Segments of all services share the OTel trace id; each id is an OTel span id; parents match."""
    async with three_apps(tmp_path) as stack:
        response = await stack.gateway.get("/api/activities/@worf")
    assert response.status_code == 200
    otel = {f"{s.context.span_id:016x}": s for s in spans(stack)}
    [trace_id] = {f"{s.context.trace_id:032x}" for s in otel.values()}
    documents = stack.documents()
    assert {d["name"] for d in documents} == {"gateway", "activities", "users"}
    assert {d["trace_id"] for d in documents} == {f"1-{trace_id[:8]}-{trace_id[8:]}"}
    assert response.headers["x-amzn-trace-id"] == f"Root=1-{trace_id[:8]}-{trace_id[8:]};Sampled=1"
    entities = {e["id"]: e for d in documents for e in walk(d)}
    for document in documents:
        server = otel[document["id"]]
        assert server.kind.name in ("SERVER", "INTERNAL")  # in-process, a callee's span is INTERNAL
        if document["name"] == "gateway":
            assert "parent_id" not in document
            continue
        caller = entities[document["parent_id"]]
        assert caller["namespace"] == "remote" and otel[caller["id"]].kind.name == "CLIENT"
        assert server.parent is not None and f"{server.parent.span_id:016x}" == caller["id"]


async def test_segments_describe_the_request(tmp_path: Path) -> None:
    """A segment has http data, route and user annotations, and each query an sql block without values."""
    token = mint("worf", DEV_AUTH_SECRET)
    # The log group turns on log shipping too: to a closed local port here, so nothing leaves the host.
    shipping: dict[str, Any] = {"aws_region": "us-east-1", "aws_endpoint_url": "http://127.0.0.1:9"}
    async with three_apps(tmp_path, cloudwatch_log_group="/cruddur/test", **shipping) as stack:
        response = await stack.gateway.post(
            "/api/activities",
            json={"message": "secret-ish text"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201
    by_name = {d["name"]: d for d in stack.documents()}
    gateway = by_name["gateway"]
    assert gateway["http"]["request"]["method"] == "POST"
    assert gateway["http"]["response"]["status"] == 201
    assert gateway["annotations"] == {"route": "/api/activities", "user": "worf"}
    assert gateway["aws"]["cloudwatch_logs"] == [{"log_group": "/cruddur/test"}]
    queries = [e for d in stack.documents() for e in walk(d) if "sql" in e]
    assert queries and all("?" in q["sql"]["sanitized_query"] for q in queries)
    assert "secret-ish text" not in str(stack.documents())


async def test_unsampled_request_sends_nothing_and_forwards_the_real_trace_id(tmp_path: Path) -> None:
    """With rules that sample nothing, no documents are sent and downstream hears Sampled=0, not zeros."""
    async with three_apps(tmp_path, rules=NEVER) as stack:
        response = await stack.gateway.get("/api/activities/home")
    assert response.status_code == 200
    assert stack.documents() == [] and spans(stack) == []
    header = response.headers["x-amzn-trace-id"]
    assert header.endswith(";Sampled=0") and "00000000-000000000000000000000000" not in header


async def test_incoming_xray_decision_is_followed(tmp_path: Path) -> None:
    """From a trusted caller, Sampled=1 continues that trace downstream even if rules sample nothing."""
    root = "1-5759e988-bd862e3fe1be46a994272793"
    async with three_apps(tmp_path, rules=NEVER, trust_incoming_sampling=True) as stack:
        response = await stack.gateway.get(
            "/api/activities/home",
            headers={"X-Amzn-Trace-Id": f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"},
        )
    assert response.status_code == 200
    documents = stack.documents()
    assert {d["trace_id"] for d in documents} == {root}
    assert {d["name"] for d in documents} == {"gateway", "activities", "users"}
    [gateway] = [d for d in documents if d["name"] == "gateway"]
    assert gateway["parent_id"] == "53995c3f42cd8ad8"


async def test_an_untrusted_callers_decision_is_not_followed(tmp_path: Path) -> None:
    """From the public, Sampled=1 keeps its trace id but the gateway's rules decide: nothing is sampled."""
    root = "1-5759e988-bd862e3fe1be46a994272793"
    async with three_apps(tmp_path, rules=NEVER) as stack:
        response = await stack.gateway.get(
            "/api/activities/home",
            headers={"X-Amzn-Trace-Id": f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"},
        )
    assert response.status_code == 200
    assert response.headers["x-amzn-trace-id"] == f"Root={root};Sampled=0"
    assert stack.documents() == []


async def test_an_exception_is_recorded_and_the_segment_still_sent(tmp_path: Path) -> None:
    """An unhandled error in a route becomes a fault segment with the exception, and a 500."""
    async with three_apps(tmp_path) as stack:
        app: FastAPI = stack.apps["users"]

        @app.get("/explode")
        async def explode() -> None:
            raise RuntimeError("boom")

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
            traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
            response = await client.get("/explode", headers={"traceparent": traceparent})
    assert response.status_code == 500
    [segment] = stack.emitters["users"].documents
    assert segment["trace_id"] == "1-11111111-" + "1" * 24 and segment["parent_id"] == "2" * 16
    assert segment["fault"] is True and segment["http"]["response"]["status"] == 500
    assert segment["cause"]["exceptions"][0]["message"] == "boom"


async def test_load_balancer_root_only_header_keeps_the_trace_id(tmp_path: Path) -> None:
    """A Root-only header (an AWS load balancer's) keeps its trace id; the gateway segment has no parent."""
    root = "1-6b0a5550-0c65729f252e522db9c8e1a4"
    async with three_apps(tmp_path) as stack:
        response = await stack.gateway.get(
            "/api/activities/home", headers={"X-Amzn-Trace-Id": f"Root={root}"}
        )
    assert response.status_code == 200
    assert response.headers["x-amzn-trace-id"] == f"Root={root};Sampled=1"
    documents = stack.documents()
    assert {d["trace_id"] for d in documents} == {root} and len(documents) == 3
    [gateway] = [d for d in documents if d["name"] == "gateway"]
    assert "parent_id" not in gateway
    assert {f"{s.context.trace_id:032x}" for s in spans(stack)} == {root.replace("-", "")[1:]}


async def test_segment_ends_when_the_client_goes_away(tmp_path: Path) -> None:
    """A request cancelled mid-flight (client disconnect) still sends its segment, ended."""
    async with three_apps(tmp_path) as stack:
        app: FastAPI = stack.apps["users"]
        started = asyncio.Event()

        @app.get("/slow")
        async def slow() -> None:
            started.set()
            await asyncio.sleep(30)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
            request = asyncio.create_task(client.get("/slow"))
            await started.wait()
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
    [segment] = stack.emitters["users"].documents
    assert segment["end_time"] >= segment["start_time"] and segment["in_progress"] is False
