"""OpenTelemetry for one process: the sampler and the tracer provider, with every span processor.

The provider uses the X-Ray-compatible id generator, so every trace id is also an X-Ray trace id,
and is a `LeanTracerProvider` (`observability.otel.tracer`): the SDK's provider with cheaper spans.
Settings come from `observability.settings.TelemetrySettings`; nothing here reads the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Sampler,
    TraceIdRatioBased,
)

from observability.otel.fanout import Destination, FanOutExporter, FanOutProcessor
from observability.otel.sampling import ParentDecides
from observability.otel.tracer import LeanTracerProvider
from observability.settings import TelemetrySettings

log = logging.getLogger(__name__)


def build_sampler(settings: TelemetrySettings) -> Sampler:
    """The sampler named by `OTEL_TRACES_SAMPLER`; the parent's decision wins for `parentbased_*`.

    Args:
        settings: telemetry settings (sampler name and ratio already validated).
    """
    name = settings.otel_traces_sampler
    ratio = settings.otel_traces_sampler_arg if settings.otel_traces_sampler_arg is not None else 1.0
    root: Sampler
    if name.endswith("always_on"):
        root = ALWAYS_ON
    elif name.endswith("always_off"):
        root = ALWAYS_OFF
    else:
        root = TraceIdRatioBased(ratio)
    return ParentDecides(root) if name.startswith("parentbased_") else root


def build_tracer_provider(
    settings: TelemetrySettings,
    *,
    service_name: str,
    exporter: SpanExporter | None = None,
    sampler: Sampler | None = None,
    processors: Sequence[SpanProcessor] = (),
    also_to: Sequence[tuple[str, OTLPSpanExporter]] = (),
) -> TracerProvider:
    """A tracer provider with the X-Ray id generator, exporting in batches off the request path.

    With no exporter given and no OTLP endpoint configured, spans are made (so trace context is
    propagated and logged) but not sent anywhere.

    Args:
        settings: telemetry settings.
        service_name: used when `OTEL_SERVICE_NAME` is not set.
        exporter: overrides the OTLP/HTTP exporter the settings describe (tests pass an in-memory one).
        sampler: overrides the sampler the settings name (X-Ray's rules, when X-Ray is on).
        processors: more destinations for the same spans, each with its own batches.
        also_to: more OTLP endpoints (name, exporter) for the same spans (the in-process X-Ray
            exporter). With the OTLP exporter the settings describe, each batch is encoded once, by
            the direct encoder, for every endpoint (`observability.otel.fanout`); beside a test's
            exporter each gets its own batch processor.
    """
    attributes: dict[str, str | list[str]] = {
        "service.name": settings.otel_service_name or service_name,
        "service.version": settings.service_version,
        "deployment.environment": settings.environment,
        "deployment.environment.name": settings.environment,
    }
    if settings.cloudwatch_log_group:
        attributes["aws.log.group.names"] = [settings.cloudwatch_log_group]  # X-Ray's pivot to the logs
    resource = Resource.create(attributes)
    provider = LeanTracerProvider(
        resource=resource,
        sampler=sampler or build_sampler(settings),
        id_generator=AwsXRayIdGenerator(),
        shutdown_on_exit=False,  # Telemetry.shutdown does it, with a bound; atexit would wait unbounded
    )
    if exporter is None and settings.exporting:
        exporter = OTLPSpanExporter(
            endpoint=settings.otlp_traces_endpoint(),
            headers=settings.otlp_headers(),
            timeout=settings.otel_exporter_otlp_timeout / 1000,
        )
    delay, size, batch = (
        settings.otel_bsp_schedule_delay,
        settings.otel_bsp_max_queue_size,
        settings.export_batch_size(),
    )
    if isinstance(exporter, OTLPSpanExporter):
        destinations = [Destination(name, each) for name, each in [("otlp", exporter), *also_to]]
        fanout = FanOutExporter(destinations)
        provider.add_span_processor(
            FanOutProcessor(
                fanout, schedule_delay_millis=delay, max_queue_size=size, max_export_batch_size=batch
            )
        )
    else:
        for each in [exporter, *(other for _, other in also_to)]:
            if each is not None:
                provider.add_span_processor(
                    BatchSpanProcessor(
                        each, schedule_delay_millis=delay, max_queue_size=size, max_export_batch_size=batch
                    )
                )
    for processor in processors:
        provider.add_span_processor(processor)
    return provider
