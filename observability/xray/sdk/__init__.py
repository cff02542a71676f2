"""The aws-xray-sdk path (`XRAY_EXPORTER=sdk`): segments over UDP to the daemon, as the course does it.

Opt-in. The SDK is in maintenance mode since 2026-02-25 and out of support on 2027-02-25; the default
way to X-Ray is the OTel spans themselves (`observability.xray`). Here `configure_xray` builds the
process's recorder (aws-xray-sdk, imported lazily because importing `aws_xray_sdk.core` reads
`AWS_XRAY_DAEMON_ADDRESS` and builds a global recorder); `XRay` is the handle the ASGI middleware,
the httpx transport and the database listeners use. Every X-Ray id is an OTel id in X-Ray form, so
segments and spans name the same trace. Reads no environment: settings are passed in.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from observability.settings import TelemetrySettings
from observability.xray.sdk.recorder import XRay, close_socket
from observability.xray.settings import udp_address

log = logging.getLogger(__name__)

__all__ = ["XRay", "configure_xray", "instrument_app", "record_engine", "wrap_transport"]


def configure_xray(settings: TelemetrySettings, *, service_name: str, emitter: Any = None) -> XRay | None:
    """Build the process's X-Ray handle, or None when X-Ray is off.

    Args:
        settings: the service's settings (`AWS_XRAY_*`, `XRAY_*`, `CLOUDWATCH_LOG_GROUP`).
        service_name: the segment name.
        emitter: replaces the UDP emitter (tests pass a stub that keeps what it is sent).
    """
    if emitter is None and settings.xray_mode != "sdk":
        return None
    from aws_xray_sdk.core import xray_recorder as unused_global_recorder
    from aws_xray_sdk.core.recorder import AWSXRayRecorder
    from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

    from observability.xray.sdk.context import ContextVarContext
    from observability.xray.sdk.emitter import DaemonEmitter

    close_socket(unused_global_recorder.emitter)  # built at import by the SDK; never used here
    recorder = AWSXRayRecorder()
    close_socket(recorder.emitter)  # the SDK's own UDP emitter, replaced below
    recorder.configure(
        sampling=False,  # the OTel root decision is the only one; see observability.xray.sampling
        sampler=LocalSampler(),
        plugins=(),
        context=ContextVarContext(),
        emitter=emitter or DaemonEmitter(udp_address(settings.aws_xray_daemon_address)),
        streaming_threshold=settings.xray_streaming_threshold,
        service=service_name,
    )
    return XRay(recorder, service_name, settings.cloudwatch_log_group)


def wrap_transport(inner: httpx.AsyncBaseTransport, xray: XRay) -> httpx.AsyncBaseTransport:
    """`inner` with a `remote` subsegment and `X-Amzn-Trace-Id` per call; put it inside OTel's."""
    from observability.xray.sdk.transport import XRayTransport

    return XRayTransport(inner, xray)


def instrument_app(app: FastAPI, xray: XRay) -> None:
    """Add the segment middleware (inside the OTel server span and error reporting: add it first).

    Args:
        app: the service's app.
        xray: the process's X-Ray handle.
    """
    from observability.xray.sdk.middleware import XRayMiddleware

    app.add_middleware(XRayMiddleware, xray=xray)


def record_engine(engine: Engine, xray: XRay) -> None:
    """Make each statement of `engine` a subsegment with an `sql` block (never the parameters)."""
    from observability.xray.sdk.db import record_engine as record

    record(engine, xray)
