"""The three real apps in one process: one trace id and the exact parent/child edges per route."""

from __future__ import annotations

import asyncio

from tests.inprocess.wiring import Apps
from tests.topology import SpanRecord, edges, from_sdk, roots


async def test_home_feed_edges(apps: Apps) -> None:
    """The home feed is one trace: gateway -> activities -> users, and nothing else."""
    response = await apps.client.get("/api/activities/home")
    assert response.status_code == 200
    spans = [from_sdk(s) for s in apps.finished_spans()]
    assert len({s.trace_id for s in spans}) == 1
    assert edges(spans) == {("gateway", "activities"), ("activities", "users")}
    [root] = roots(spans)
    assert (root.service, root.name) == ("gateway", "GET /api/activities/home")
    assert response.headers["traceresponse"].split("-")[1] == root.trace_id


async def test_profile_page_edges_are_concurrent(apps: Apps) -> None:
    """The profile page calls users and activities from the gateway, and the two calls overlap."""
    response = await apps.client.get("/api/activities/@worf")
    assert response.status_code == 200
    raw = apps.finished_spans()
    spans = [from_sdk(s) for s in raw]
    assert len({s.trace_id for s in spans}) == 1
    assert edges(spans) == {("gateway", "users"), ("gateway", "activities"), ("activities", "users")}
    root = roots(spans)[0]
    calls = [
        s for s, r in zip(raw, spans, strict=True) if r.kind == "CLIENT" and r.parent_span_id == root.span_id
    ]
    assert len(calls) == 2
    first, second = sorted(calls, key=lambda s: s.start_time)  # type: ignore[attr-defined]
    assert second.start_time < first.end_time, "users and activities were called one after the other"  # type: ignore[attr-defined]


async def test_concurrent_requests_get_separate_traces(apps: Apps) -> None:
    """Twenty concurrent feeds make twenty traces, each complete, none sharing a span."""
    responses = await asyncio.gather(*(apps.client.get("/api/activities/home") for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    spans = [from_sdk(s) for s in apps.finished_spans()]
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    assert len(by_trace) == 20
    for trace_spans in by_trace.values():
        assert edges(trace_spans) == {("gateway", "activities"), ("activities", "users")}
        assert len(roots(trace_spans)) == 1


async def test_enrichment_span_counts_posts(apps: Apps) -> None:
    """The enrichment span says how many posts the feed returned and how many authors it looked up."""
    response = await apps.client.get("/api/activities/home")
    [enrich] = [s for s in map(from_sdk, apps.finished_spans()) if s.name == "activities.enrich_authors"]
    assert enrich.attributes["app.result_length"] == len(response.json()) == 5
    assert enrich.attributes["app.author_count"] == 5
    assert enrich.attributes["app.authors_missing"] == 0
