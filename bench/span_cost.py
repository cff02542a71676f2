"""`python -m bench.span_cost`: CPU of one span, the SDK's tracer against the lean one (issue 16),
and of encoding it, OpenTelemetry's OTLP encoder against the project's.

Only the tracers' own machinery is measured: a no-op span processor, the project's sampler shape
(`ParentBased(ALWAYS_ON)`) and id generator. `time.process_time` over N iterations, 3 repetitions.
The encoders are timed on a batch of those spans as exported (server and database spans alternating,
their attributes repeating as a service's do).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanContext, SpanKind, TraceFlags
from opentelemetry.util import types

from observability.otel import encoding
from observability.otel.tracer import LeanTracerProvider

TRACE, PARENT = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7
SAMPLED = trace.set_span_in_context(trace.NonRecordingSpan(SpanContext(TRACE, PARENT, True, TraceFlags(1))))
UNSAMPLED = trace.set_span_in_context(trace.NonRecordingSpan(SpanContext(TRACE, PARENT, True, TraceFlags(0))))
HTTP: dict[str, types.AnyValue] = {
    "http.request.method": "GET",
    "url.scheme": "http",
    "url.path": "/api/activities/home",
    "url.query": "",
    "http.route": "/api/activities/home",
    "server.address": "gateway",
    "server.port": 8000,
    "client.address": "10.1.2.3",
    "client.port": 45678,
    "network.protocol.version": "1.1",
    "user_agent.original": "curl/8.5.0",
    "http.response.status_code": 200,
}
DB: dict[str, types.AnyValue] = {
    "db.system.name": "sqlite",
    "db.namespace": "users",
    "db.operation.name": "SELECT",
    "db.collection.name": "users",
    "db.query.text": "SELECT handle, display_name FROM users WHERE handle IN (?, ?)",
}


def cases(tracer: trace.Tracer) -> dict[str, Callable[[], None]]:
    """Each case is one iteration."""
    live = tracer.start_span("live", context=SAMPLED)

    def server() -> None:
        tracer.start_span("GET /api/activities/home", SAMPLED, SpanKind.SERVER, HTTP).end()

    def db() -> None:
        tracer.start_span("SELECT users", SAMPLED, SpanKind.CLIENT, DB).end()

    def unsampled() -> None:
        tracer.start_span("GET /api/activities/home", UNSAMPLED, SpanKind.SERVER, HTTP).end()

    def set_attribute() -> None:
        live.set_attribute("http.response.status_code", 200)

    def set_list_attribute() -> None:
        live.set_attribute("aws.log.group.names", ["/cruddur/gateway"])

    return {
        "SERVER span, 12 attributes, sampled remote parent": server,
        "db-like CLIENT span, 5 attributes": db,
        "unsampled SERVER span": unsampled,
        "set_attribute (int)": set_attribute,
        "set_attribute (list)": set_list_attribute,
    }


def exported_batch(size: int) -> list[ReadableSpan]:
    """`size` spans as the lean tracer exports them: server and database spans in turn."""
    memory = InMemorySpanExporter()
    provider = LeanTracerProvider(sampler=ParentBased(ALWAYS_ON), id_generator=AwsXRayIdGenerator())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    for index in range(size):
        if index % 2:
            tracer.start_span("SELECT users", SAMPLED, SpanKind.CLIENT, DB).end()
        else:
            tracer.start_span("GET /api/activities/home", SAMPLED, SpanKind.SERVER, HTTP).end()
    provider.shutdown()
    return list(memory.get_finished_spans())


def encoders(batch: list[ReadableSpan]) -> dict[str, Callable[[], object]]:
    """One iteration encodes the whole batch to the bytes an OTLP/HTTP request carries."""
    return {
        "reference": lambda: encode_spans(batch).SerializePartialToString(),
        "project": lambda: encoding.encode(batch),
    }


def measure(run: Callable[[], object], iterations: int) -> float:
    """Microseconds of CPU per iteration."""
    start = time.process_time()
    for _ in range(iterations):
        run()
    return (time.process_time() - start) / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    tracers = {}
    for name, cls in (("sdk", TracerProvider), ("lean", LeanTracerProvider)):
        provider = cls(
            sampler=ParentBased(ALWAYS_ON), id_generator=AwsXRayIdGenerator(), shutdown_on_exit=False
        )
        provider.add_span_processor(SpanProcessor())
        tracers[name] = cases(provider.get_tracer("bench"))
    print(f"{'case':52} {'sdk us':>20} {'lean us':>20} {'lean/sdk':>9}")
    for case in tracers["sdk"]:
        runs = {
            name: [measure(each[case], args.iterations) for _ in range(args.repetitions)]
            for name, each in tracers.items()
        }
        sdk, lean = (" ".join(f"{value:6.2f}" for value in runs[name]) for name in ("sdk", "lean"))
        print(f"{case:52} {sdk:>20} {lean:>20} {min(runs['lean']) / min(runs['sdk']):9.2f}")
    size = 512  # the batch processor's default batch
    batch = encoders(exported_batch(size))
    timed = {
        name: [measure(run, max(1, args.iterations // size)) / size for _ in range(args.repetitions)]
        for name, run in batch.items()
    }
    reference, project = (" ".join(f"{value:6.2f}" for value in timed[name]) for name in batch)
    ratio = min(timed["project"]) / min(timed["reference"])
    print(f"\n{'encoding, us a span (512-span batch)':52} {'reference':>20} {'project':>20} {'ours/ref':>9}")
    print(f"{'OTLP protobuf bytes':52} {reference:>20} {project:>20} {ratio:9.2f}")


if __name__ == "__main__":
    main()
