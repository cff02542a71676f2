"""CloudWatch Logs as moto server on a loopback port, a reader of what it holds, and a hung endpoint."""

from __future__ import annotations

import json
import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass
class CloudWatchStandIn:
    """moto server on `port`; `stop()` then `start()` again keeps what it holds (moto's state is global)."""

    port: int
    _server: ThreadedMotoServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CloudWatchStandIn:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self) -> Any:
        return boto3.session.Session().client(
            "logs",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def events(self, group: str) -> dict[str, list[dict[str, Any]]]:
        """Every event of `group` by stream, each message decoded from JSON (None if it is not JSON)."""
        logs = self.client()
        try:
            streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return {}
        result: dict[str, list[dict[str, Any]]] = {}
        for stream in streams:
            name = stream["logStreamName"]
            raw = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)["events"]
            result[name] = [_decode(event["message"]) for event in raw]
        return result


def _decode(message: str) -> dict[str, Any]:
    try:
        decoded = json.loads(message)
    except ValueError:
        return {"not_json": message}
    return decoded if isinstance(decoded, dict) else {"not_json": message}


@dataclass
class HungEndpoint:
    """Accepts connections and never answers: CloudWatch as seen through a network that hangs."""

    port: int
    _sock: socket.socket | None = None
    _held: list[socket.socket] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HungEndpoint:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.1)  # a blocked accept() would keep the port after close()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def stop(self) -> None:
        """Close the port and every held connection (the clients see a reset), so it can be reused."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for conn in self._held:
            conn.close()
        self._held.clear()
