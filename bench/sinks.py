"""`python -m bench.sinks`: the telemetry backends of a benchmark run, in a process of their own.

One HTTP server answers OTLP/HTTP (`POST <prefix>/v1/traces`, an empty `ExportTraceServiceResponse`)
and Rollbar (`POST <prefix>/api/1/item/`), and UDP sockets take X-Ray daemon datagrams, one per
configuration. The sinks only count what arrives (by path prefix and by UDP port): decoding is the
tests' job (tests/standins), and a separate process keeps its CPU out of the services' accounting.
`GET /_counts` answers the counts as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.configs import Backends, Config

ROLLBAR_REPLY = b'{"err": 0, "result": {"id": null, "uuid": "00000000000000000000000000000000"}}'


class Counts:
    """What arrived, by configuration: HTTP requests and bytes by path prefix, datagrams by port."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.http: Counter[str] = Counter()
        self.udp: Counter[str] = Counter()

    def add_http(self, path: str, size: int) -> None:
        prefix, _, rest = path.strip("/").partition("/")
        kind = "otlp" if rest.endswith("v1/traces") else "rollbar" if "item" in rest else "other"
        with self.lock:
            self.http[f"{prefix}/{kind}"] += 1
            self.http[f"{prefix}/{kind}_bytes"] += size

    def add_udp(self, port: int) -> None:
        with self.lock:
            self.udp[str(port)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"http": dict(self.http), "udp": dict(self.udp)}


def serve_http(port: int, counts: Counts) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            counts.add_http(self.path, len(body))
            is_rollbar = "/item" in self.path
            self._reply(ROLLBAR_REPLY if is_rollbar else b"", "json" if is_rollbar else "x-protobuf")

        def do_GET(self) -> None:
            self._reply(json.dumps(counts.snapshot()).encode(), "json")

        def _reply(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", f"application/{kind}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_udp(port: int, counts: Counts) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))

    def loop() -> None:
        while True:
            sock.recv(65535)
            counts.add_udp(port)

    threading.Thread(target=loop, daemon=True).start()


def cloudwatch_events(moto_port: int, group: str) -> int | None:
    """How many log events the moto server holds in `group` (None: no such group, or no boto3)."""
    try:
        import boto3

        logs = boto3.client(
            "logs",
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        total = 0
        for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
            name = stream["logStreamName"]
            total += len(logs.get_log_events(logGroupName=group, logStreamName=name)["events"])
        return total
    except Exception:
        return None


def received(counts: dict[str, Any], configs: Sequence[Config], backends: Backends) -> dict[str, str]:
    """What the local backends got from each configuration, in words."""
    words = {}
    for config in configs:
        http = {k.split("/", 1)[1]: v for k, v in counts["http"].items() if k.split("/", 1)[0] == config.name}
        xray = {
            k.split("/", 1)[1]: v
            for k, v in counts["http"].items()
            if k.split("/", 1)[0] == f"{config.name}-xray"
        }
        udp = counts["udp"].get(str(backends.udp_ports[config.name]), 0)
        events = cloudwatch_events(backends.moto_port, f"bench-{config.name}") if config.full else None
        words[config.name] = (
            f"OTLP {http.get('otlp', 0)} posts ({http.get('otlp_bytes', 0) // 1024} KiB), "
            f"X-Ray OTLP {xray.get('otlp', 0)} posts ({xray.get('otlp_bytes', 0) // 1024} KiB), "
            f"X-Ray {udp} datagrams, Rollbar {http.get('rollbar', 0)} items, "
            f"CloudWatch {'no log group' if events is None else f'{events} events (first page)'}"
        )
    return words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--udp-port", type=int, action="append", default=[])
    args = parser.parse_args(argv)
    counts = Counts()
    for port in args.udp_port:
        serve_udp(port, counts)
    server = serve_http(args.http_port, counts)
    print("ready", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
