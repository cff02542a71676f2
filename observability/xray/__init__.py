"""AWS X-Ray as a destination of the OTel spans: one span model, three ways out (`XRAY_EXPORTER`).

- `otlp`: a second OTLP/HTTP exporter in the process, its requests signed with SigV4, to X-Ray's
  OTLP endpoint (`https://xray.<region>.amazonaws.com/v1/traces`; the account needs CloudWatch
  Transaction Search). For `make dev` and containers without a collector.
- `collector`: the services send OTLP to the collector as always, and it sends the same spans on.
- `sdk`: the aws-xray-sdk segments of `observability.xray.sdk` (opt-in; out of support 2027-02-25).

In every mode the X-Ray rules decide sampling at the root (one decision for every exporter) and
`X-Amzn-Trace-Id` is read and written on every hop (`observability.xray.header`). The spans carry
what X-Ray shows: `enduser.id`, `aws.xray.annotations`, HTTP attributes, exception events and the
resource's `aws.log.group.names`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.sampling import Sampler

from observability.xray.settings import load_rules

if TYPE_CHECKING:  # observability.settings imports this package's settings: no import cycle at run time
    from observability.settings import TelemetrySettings

log = logging.getLogger(__name__)


def build_root_sampler(settings: TelemetrySettings, *, service_name: str) -> Sampler:
    """The OTel sampler when X-Ray is on: the X-Ray rules at the root, the parent's decision below.

    Args:
        settings: the service's settings (`XRAY_SAMPLING_RULES`, `XRAY_CENTRALIZED_SAMPLING`).
        service_name: the service name the rules match on.
    """
    from observability.xray.sampling import build_sampler, rule_sampler

    if settings.otel_traces_sampler != "parentbased_always_on":
        log.warning("OTEL_TRACES_SAMPLER is not used while X-Ray is on: the X-Ray rules decide at the root")
    rules = rule_sampler(
        load_rules(settings.xray_sampling_rules),
        centralized=settings.xray_centralized_sampling,
        daemon_address=settings.aws_xray_daemon_address,
    )
    return build_sampler(rules, service_name)


def otlp_exporter(settings: TelemetrySettings) -> OTLPSpanExporter:
    """The in-process way out (`XRAY_EXPORTER=otlp`) as an exporter: signed OTLP to X-Ray.

    The main OTLP exporter's batches feed it (`observability.otel.fanout`: encoded once for both).

    Args:
        settings: `AWS_REGION` (checked by the settings), `XRAY_OTLP_ENDPOINT`, the OTLP timeout.
    """
    from observability.xray.otlp import build_xray_otlp_exporter

    return build_xray_otlp_exporter(
        region=settings.aws_region or "",
        endpoint=settings.xray_otlp_endpoint,
        timeout_s=settings.otel_exporter_otlp_timeout / 1000,
    )


def otlp_processor(settings: TelemetrySettings) -> SpanProcessor:
    """The in-process way out (`XRAY_EXPORTER=otlp`): signed OTLP to X-Ray, its own bounded batches.

    Args:
        settings: `AWS_REGION` (checked by the settings), `XRAY_OTLP_ENDPOINT`, and the OTLP
            exporter's timeout and the batch processor's bounds, shared with the main exporter.
    """
    from observability.xray.otlp import build_xray_otlp_processor

    return build_xray_otlp_processor(
        region=settings.aws_region or "",
        endpoint=settings.xray_otlp_endpoint,
        timeout_s=settings.otel_exporter_otlp_timeout / 1000,
        max_queue_size=settings.otel_bsp_max_queue_size,
        max_export_batch_size=settings.export_batch_size(),
        schedule_delay_ms=settings.otel_bsp_schedule_delay,
    )
