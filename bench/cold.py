"""`python -m bench.cold`: each step of a request's telemetry, in a loop and with the caches cleared first.

In the benchmark three services, wrk and the telemetry backends share two cores, so each request
finds the code and data its telemetry touches evicted since the last one: a step costs three to four
times in the chain what it costs in a loop (docs/performance.md, item 30). This times each step
both ways on the thread's CPU clock: warm (called over and over) and cold (`--evict` MiB written
before each call, more than a core's L2 cache). The steps are the project's own, with its propagator
(X-Ray on), its lean tracer and its parent-based sampler, on the headers an internal hop carries.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from opentelemetry import context, trace
from opentelemetry.propagate import extract, get_global_textmap, inject, set_global_textmap
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind

from observability.logs.formatter import trace_fields
from observability.otel.propagation import use_project_propagation
from observability.otel.sampling import ParentDecides
from observability.otel.server_span import HEADER_GETTER, RequestHeaders, request_attributes, request_url
from observability.otel.tracer import LeanTracerProvider

TRACEPARENT = "00-5f0c2b1e3a1d4c2b9a8e7f6d5c4b3a29-1a2b3c4d5e6f7a8b-01"
XRAY = "Root=1-5f0c2b1e-3a1d4c2b9a8e7f6d5c4b3a29;Parent=1a2b3c4d5e6f7a8b;Sampled=1"
SCOPE = {
    "type": "http",
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/users",
    "query_string": b"handles=andrewbrown",
    "headers": [
        (b"host", b"users:8002"),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"),
        (b"user-agent", b"python-httpx/0.28.1"),
        (b"traceparent", TRACEPARENT.encode()),
        (b"x-amzn-trace-id", XRAY.encode()),
    ],
    "client": ("10.0.0.3", 50000),
    "server": ("10.0.0.4", 8002),
}


@contextmanager
def request_steps() -> Iterator[dict[str, Callable[[], object]]]:
    """Each step as a request makes it once, inside a request's span, with the project's propagator
    (X-Ray on); the process's propagator and context are as they were afterwards."""
    previous = get_global_textmap()
    use_project_propagation(read_xray_header=True)
    provider = LeanTracerProvider(
        sampler=ParentDecides(ALWAYS_ON), id_generator=AwsXRayIdGenerator(), shutdown_on_exit=False
    )
    provider.add_span_processor(SpanProcessor())  # the span's own cost, not an exporter's
    tracer = provider.get_tracer("bench")
    headers = RequestHeaders(SCOPE)
    url = request_url(SCOPE, headers)
    caller = extract(headers, getter=HEADER_GETTER)
    server = tracer.start_span("GET /users", caller, SpanKind.SERVER)

    def call_headers() -> None:
        inject(httpx.Headers({"host": "users:8002", "accept": "*/*"}))

    token = context.attach(trace.set_span_in_context(server))
    try:
        yield {
            "read the request's headers": lambda: RequestHeaders(SCOPE),
            "extract the caller's context": lambda: extract(headers, getter=HEADER_GETTER),
            "the server span's attributes": lambda: request_attributes(SCOPE, headers, url),
            "start and end a sampled span": lambda: tracer.start_span("GET", kind=SpanKind.CLIENT).end(),
            "write a call's trace headers": call_headers,
            "a log line's trace fields": trace_fields,
        }
    finally:
        context.detach(token)
        set_global_textmap(previous)


def measure(step: Callable[[], object], iterations: int, evict: bytearray | None) -> float:
    """Microseconds of the thread's CPU per call, the clock's own cost taken off; `evict` is written
    (one byte every 64, a cache line each) before every call when given."""
    clock = time.thread_time_ns
    zeros = bytes(len(evict) // 64) if evict is not None else b""
    total = overhead = 0
    for _ in range(iterations):
        if evict is not None:
            evict[::64] = zeros
        started = clock()
        step()
        total += clock() - started
        started = clock()
        overhead += clock() - started
    return max(total - overhead, 0) / iterations / 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2_000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--evict", type=int, default=8, help="MiB written before each cold call")
    args = parser.parse_args(argv)
    evict = bytearray(args.evict << 20)
    print(f"{'step':34} {'loop us':>8} {'cold us':>8} {'cold/loop':>9}")
    with request_steps() as steps:
        for name, step in steps.items():
            warm = min(measure(step, args.iterations * 10, None) for _ in range(args.repetitions))
            cold = min(measure(step, args.iterations, evict) for _ in range(args.repetitions))
            print(f"{name:34} {warm:8.2f} {cold:8.2f} {cold / warm if warm else 0.0:9.1f}")


if __name__ == "__main__":
    main()
