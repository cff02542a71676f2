"""AWS X-Ray behind one boundary: the rest of the project talks only to this module.

`configure_xray` builds the process's recorder (aws-xray-sdk, imported lazily because importing
`aws_xray_sdk.core` reads `AWS_XRAY_DAEMON_ADDRESS` and builds a global recorder); `XRay` is the
handle the ASGI middleware, the httpx transport and the database listeners use. Every X-Ray id is
an OTel id in X-Ray form, so an OTel-to-X-Ray exporter can replace the SDK without changing traces.
Reads no environment: settings come from `observability.settings.TelemetrySettings`.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from observability.settings import TelemetrySettings
from observability.xray_recorder import XRay, close_socket
from observability.xray_settings import load_rules, udp_address

log = logging.getLogger(__name__)

__all__ = ["XRay", "build_root_sampler", "configure_xray", "instrument_app", "record_engine"]
__all__ += ["wrap_transport"]


def configure_xray(settings: TelemetrySettings, *, service_name: str, emitter: Any = None) -> XRay | None:
    """Build the process's X-Ray handle, or None when X-Ray is off.

    Args:
        settings: the service's settings (`AWS_XRAY_*`, `XRAY_*`, `CLOUDWATCH_LOG_GROUP`).
        service_name: the segment name.
        emitter: replaces the UDP emitter (tests pass a stub that keeps what it is sent).
    """
    if emitter is None and not settings.xray_enabled:
        return None
    from aws_xray_sdk.core import xray_recorder as unused_global_recorder
    from aws_xray_sdk.core.recorder import AWSXRayRecorder
    from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

    from observability.xray_context import ContextVarContext
    from observability.xray_emitter import DaemonEmitter

    close_socket(unused_global_recorder.emitter)  # built at import by the SDK; never used here
    recorder = AWSXRayRecorder()
    close_socket(recorder.emitter)  # the SDK's own UDP emitter, replaced below
    recorder.configure(
        sampling=False,  # the OTel root decision is the only one; see observability.xray_sampling
        sampler=LocalSampler(),
        plugins=(),
        context=ContextVarContext(),
        emitter=emitter or DaemonEmitter(udp_address(settings.aws_xray_daemon_address)),
        streaming_threshold=settings.xray_streaming_threshold,
        service=service_name,
    )
    return XRay(recorder, service_name, settings.cloudwatch_log_group)


def build_root_sampler(settings: TelemetrySettings, *, service_name: str) -> Any:
    """The OTel sampler when X-Ray is on: the X-Ray rules at the root, the parent's decision below."""
    from observability.xray_sampling import build_sampler, rule_sampler

    if settings.otel_traces_sampler != "parentbased_always_on":
        log.warning("OTEL_TRACES_SAMPLER is not used while X-Ray is on: the X-Ray rules decide at the root")
    rules = rule_sampler(
        load_rules(settings.xray_sampling_rules),
        centralized=settings.xray_centralized_sampling,
        daemon_address=settings.aws_xray_daemon_address,
    )
    return build_sampler(rules, service_name)


def wrap_transport(inner: httpx.AsyncBaseTransport, xray: XRay) -> httpx.AsyncBaseTransport:
    """`inner` with a `remote` subsegment and `X-Amzn-Trace-Id` per call; put it inside OTel's."""
    from observability.xray_transport import XRayTransport

    return XRayTransport(inner, xray)


def instrument_app(app: FastAPI, xray: XRay, *, edge: bool) -> None:
    """Add the segment middleware (inside the OTel server span; add it before `instrument_app`).

    Args:
        app: the service's app.
        xray: the process's X-Ray handle.
        edge: the public edge answers with `X-Amzn-Trace-Id`.
    """
    from observability.xray_middleware import XRayMiddleware

    app.add_middleware(XRayMiddleware, xray=xray, respond_with_trace_id=edge)


def record_engine(engine: Engine, xray: XRay) -> None:
    """Make each statement of `engine` a subsegment with an `sql` block (never the parameters)."""
    from observability.xray_db import record_engine as record

    record(engine, xray)
