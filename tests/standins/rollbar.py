"""Rollbar's item API on a loopback port: records every `POST /api/1/item/`, can be made slow."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.standins.http import LoopbackServer, QuietHandler


@dataclass
class RollbarStandIn:
    """`endpoint` is what `ROLLBAR_ENDPOINT` should say; `delay` seconds before each answer."""

    token: str = "test-rollbar-token"
    delay: float = 0.0
    items: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LoopbackServer = field(default_factory=LoopbackServer)

    @property
    def endpoint(self) -> str:
        return f"{self._server.base_url}/api/1"

    def env(self) -> dict[str, str]:
        """The variables that send a service's Rollbar items here."""
        return {"ROLLBAR_ACCESS_TOKEN": self.token, "ROLLBAR_ENDPOINT": self.endpoint}

    def start(self) -> RollbarStandIn:
        standin = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(standin.delay)
                token = self.headers.get("X-Rollbar-Access-Token")
                try:
                    data = json.loads(body)["data"]
                except (ValueError, KeyError, TypeError):
                    data = None
                if self.path != "/api/1/item/" or token != standin.token or not isinstance(data, dict):
                    with standin._lock:
                        standin.rejected += 1
                    self._reply(400 if data is None else 403, {"err": 1, "message": "rejected"})
                    return
                with standin._lock:
                    standin.items.append(data)
                self._reply(200, {"err": 0, "result": {"id": None, "uuid": data.get("uuid")}})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server.serve(Handler)
        return self

    def stop(self) -> None:
        self._server.stop()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.items)

    def for_trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Items whose trace id is `trace_id`."""
        return [i for i in self.snapshot() if i.get("custom", {}).get("trace_id") == trace_id]
