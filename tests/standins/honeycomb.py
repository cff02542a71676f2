"""Honeycomb's configuration API on a loopback port: queries, query annotations and boards, in memory.

It answers as the public API reference documents (paths, the `X-Honeycomb-Team` header, status codes)
and refuses what the reference says is refused: an unknown calculation or filter op, a calculation
without its column, an order on neither a breakdown nor a calculation, a limit outside 1..10000, an
annotation name over 80 or description over 280 characters, an annotation moved to another query, a
board that is not `flexible` (classic boards are refused since 2025-08-15), a panel naming a query or
annotation that does not exist. Every call is recorded, so tests can say which ones were made.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.standins.http import LoopbackServer, QuietHandler

CALCULATION_OPS = {"COUNT", "CONCURRENCY", "SUM", "AVG", "COUNT_DISTINCT", "MAX", "MIN", "HEATMAP"} | {
    f"P{p}" for p in ("001", "01", "05", "10", "20", "25", "50", "75", "80", "90", "95", "99", "999")
}
FILTER_OPS = {
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "starts-with",
    "does-not-start-with",
    "exists",
    "does-not-exist",
}
FILTER_OPS |= {"contains", "does-not-contain", "in", "not-in", "ends-with", "does-not-end-with"}
QUERY_KEYS = {"calculations", "filters", "breakdowns", "orders", "havings", "limit", "time_range"}
QUERY_KEYS |= {"start_time", "end_time", "granularity", "filter_combination", "calculated_fields"}
QUERY_STYLES, LAYOUTS = {"graph", "table", "combo"}, {"manual", "auto"}


class Refused(Exception):
    """A request the API would answer with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_query(spec: Any) -> None:
    if not isinstance(spec, dict) or set(spec) - QUERY_KEYS:
        raise Refused(
            400, f"unknown query fields: {set(spec) - QUERY_KEYS if isinstance(spec, dict) else spec}"
        )
    for calc in spec.get("calculations", []):
        if calc.get("op") not in CALCULATION_OPS:
            raise Refused(400, f"unknown calculation op {calc.get('op')!r}")
        if calc["op"] not in ("COUNT", "CONCURRENCY") and not calc.get("column"):
            raise Refused(400, f"{calc['op']} needs a column")
    for flt in spec.get("filters", []):
        if flt.get("op") not in FILTER_OPS or not flt.get("column"):
            raise Refused(400, f"bad filter {flt!r}")
        if flt["op"] in ("exists", "does-not-exist") and "value" in flt:
            raise Refused(400, f"{flt['op']} takes no value")
    calcs = {(c["op"], c.get("column")) for c in spec.get("calculations", [])}
    for order in spec.get("orders", []):
        if (order.get("op"), order.get("column")) not in calcs and (
            order.get("op") is not None or order.get("column") not in spec.get("breakdowns", [])
        ):
            raise Refused(400, f"order {order!r} is neither a breakdown nor a calculation")
    if not 1 <= spec.get("limit", 100) <= 10_000:
        raise Refused(400, "limit must be 1..10000")
    if spec.get("filter_combination", "AND") not in ("AND", "OR"):
        raise Refused(400, "filter_combination is AND or OR")


@dataclass
class HoneycombStandIn:
    """`endpoint` is what `HONEYCOMB_API_ENDPOINT` should say; `key` the configuration key it accepts."""

    key: str = "test-configuration-key"
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)
    boards: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LoopbackServer = field(default_factory=LoopbackServer)

    @property
    def endpoint(self) -> str:
        return self._server.base_url

    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call[0] != "GET"]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def start(self) -> HoneycombStandIn:
        standin = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length) if length else b""
                with standin._lock:
                    standin.calls.append((method, self.path))
                    try:
                        if self.headers.get("X-Honeycomb-Team") != standin.key:
                            raise Refused(401, "unknown API key - check your credentials")
                        if raw and self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                            raise Refused(415, "request bodies are application/json")
                        body = json.loads(raw) if raw else None
                        status, answer = standin.route(method, self.path, body)
                    except Refused as exc:
                        standin.refused.append(f"{method} {self.path}: {exc}")
                        status, answer = exc.status, {"error": str(exc)}
                    except ValueError:
                        status, answer = 400, {"error": "request body is not JSON"}
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server.serve(Handler)
        return self

    def stop(self) -> None:
        self._server.stop()

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if m := re.fullmatch(r"/1/queries/(__all__|[\w.-]+)(?:/(\w+))?", path):
            return self._queries(method, m[2], body)
        if m := re.fullmatch(r"/1/query_annotations/(__all__|[\w.-]+)(?:/(\w+))?", path):
            return self._annotations(method, m[2], body)
        if m := re.fullmatch(r"/1/boards(?:/(\w+))?", path):
            return self._boards(method, m[1], body)
        raise Refused(404, f"no route {path}")

    def _queries(self, method: str, query_id: str | None, body: Any) -> tuple[int, Any]:
        if method == "POST" and query_id is None:
            check_query(body)
            new = self.new_id("q")
            self.queries[new] = body
            return 200, {"id": new, **body}
        if method == "GET" and query_id in self.queries:
            spec = {
                k: v for k, v in self.queries[query_id].items() if (k, v) != ("filter_combination", "AND")
            }
            return 200, {"id": query_id, **spec}
        raise Refused(404, "query not found")

    def _annotations(self, method: str, annotation_id: str | None, body: Any) -> tuple[int, Any]:
        if method == "GET" and annotation_id is None:
            return 200, list(self.annotations.values())
        if method in ("POST", "PUT"):
            if not isinstance(body, dict) or not 1 <= len(body.get("name", "")) <= 80:
                raise Refused(400, "name must be 1..80 characters")
            if len(body.get("description", "")) > 280 or body.get("query_id") not in self.queries:
                raise Refused(400, "description over 280 characters, or no such query")
        if method == "POST" and annotation_id is None:
            new = self.new_id("a")
            self.annotations[new] = {"id": new, **body}
            return 201, self.annotations[new]
        if annotation_id not in self.annotations:
            raise Refused(404, "query annotation not found")
        if method == "PUT":
            if body["query_id"] != self.annotations[annotation_id]["query_id"]:
                raise Refused(400, "the query of an annotation cannot change")
            self.annotations[annotation_id] = {"id": annotation_id, **body}
            return 200, self.annotations[annotation_id]
        if method == "DELETE":
            del self.annotations[annotation_id]
            return 204, None
        return 200, self.annotations[annotation_id]

    def _check_board(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("name"):
            raise Refused(400, "a board needs a name")
        if body.get("type") != "flexible":
            raise Refused(400, "only flexible boards are supported")
        if body.get("layout_generation", "manual") not in LAYOUTS:
            raise Refused(400, "layout_generation is manual or auto")
        for panel in body.get("panels", []):
            query, at = panel.get("query_panel") or {}, panel.get("position") or {}
            if panel.get("type") != "query" or query.get("query_id") not in self.queries:
                raise Refused(400, f"panel {panel!r}: not a query panel of an existing query")
            annotation = self.annotations.get(query.get("query_annotation_id", ""))
            if annotation is None or annotation["query_id"] != query["query_id"]:
                raise Refused(400, f"panel {panel!r}: its annotation is not of its query")
            if query.get("query_style", "graph") not in QUERY_STYLES:
                raise Refused(400, f"unknown query_style {query.get('query_style')!r}")
            keys = ("x_coordinate", "y_coordinate", "width", "height")
            if not all(isinstance(at.get(k), int) and at[k] >= 0 for k in keys):
                raise Refused(400, f"panel {panel!r}: bad position")

    def _boards(self, method: str, board_id: str | None, body: Any) -> tuple[int, Any]:
        if method == "GET" and board_id is None:
            return 200, list(self.boards.values())
        if method == "POST" and board_id is None:
            self._check_board(body)
            new = self.new_id("b")
            self.boards[new] = {"id": new, **body, "links": {"board_url": f"https://ui.example/board/{new}"}}
            return 201, self.boards[new]
        if board_id not in self.boards:
            raise Refused(404, "board not found")
        if method == "PUT":
            self._check_board(body)
            self.boards[board_id] = {**self.boards[board_id], **body, "id": board_id}
            return 200, self.boards[board_id]
        return 200, self.boards[board_id]
