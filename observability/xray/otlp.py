"""X-Ray from the OpenTelemetry spans, in process: OTLP/HTTP to X-Ray's endpoint, signed with SigV4.

For a process with no collector beside it (`make dev`, a container without a sidecar). The spans
already carry what X-Ray shows; this module only delivers them, to
`https://xray.<region>.amazonaws.com/v1/traces` (the account needs CloudWatch Transaction Search),
through its own bounded `BatchSpanProcessor`, so every export runs on the processor's thread, never
on the event loop. botocore signs each request (SigV4, service `xray`) over the exact bytes sent,
gzip included.

Settings that feed it, read by the settings class and passed here as arguments: `XRAY_EXPORTER=otlp`
turns it on, `AWS_REGION` is the region, `XRAY_OTLP_ENDPOINT` replaces the endpoint (a local
stand-in). Credentials come from botocore's default chain (environment, profile, container or
instance role), resolved on the first export rather than at start-up and refreshed by botocore when
they rotate. Without credentials a batch is dropped with a warning; nothing is raised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import botocore.auth
import botocore.session
import requests
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor

log = logging.getLogger(__name__)

SIGNING_SERVICE = "xray"
CREDENTIALS_RETRY_S = 60.0  # a miss is retried this often: the chain may probe instance metadata
# What requests and the OTLP exporter send. Anything else is dropped: the exporter merges in
# `OTEL_EXPORTER_OTLP_HEADERS`, which holds the main backend's API key, not something for AWS.
_SENT_HEADERS = frozenset(
    {
        "content-type",
        "content-encoding",
        "content-length",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
    }
)
_SIGNED_HEADERS = frozenset({"content-type", "content-encoding"})  # plus host and x-amz-*, by botocore

CredentialsProvider = Callable[[], Credentials | None]


def default_endpoint(region: str) -> str:
    """X-Ray's OTLP traces endpoint in `region`."""
    return f"https://xray.{region}.amazonaws.com/v1/traces"


def default_credentials() -> Credentials | None:
    """botocore's default credential chain; may probe the network (container, instance metadata)."""
    credentials: Credentials | None = botocore.session.get_session().get_credentials()
    return credentials


class _CredentialSource:
    """Resolves credentials on first use, on the exporting thread, and retries a miss once a minute."""

    def __init__(self, provider: CredentialsProvider) -> None:
        self._provider = provider
        self._credentials: Credentials | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def frozen(self) -> ReadOnlyCredentials | None:
        with self._lock:
            if self._credentials is None and time.monotonic() >= self._retry_at:
                self._retry_at = time.monotonic() + CREDENTIALS_RETRY_S
                try:
                    self._credentials = self._provider()
                except Exception as exc:  # a broken profile must not escape the exporter
                    log.warning("X-Ray OTLP: resolving AWS credentials failed: %s", type(exc).__name__)
                if self._credentials is None:
                    log.warning(
                        "X-Ray OTLP: no AWS credentials found (botocore's default chain); "
                        "spans for X-Ray are dropped, next try in %.0f s",
                        CREDENTIALS_RETRY_S,
                    )
            if self._credentials is None:
                return None
            try:
                frozen: ReadOnlyCredentials = self._credentials.get_frozen_credentials()  # refreshes
            except Exception as exc:
                log.warning("X-Ray OTLP: refreshing AWS credentials failed: %s", type(exc).__name__)
                return None
            return frozen


class SigV4Auth(requests.auth.AuthBase):
    """Signs each prepared request (the final URL, headers and body bytes) with SigV4 for X-Ray."""

    def __init__(self, credentials: CredentialsProvider, region: str) -> None:
        self._credentials = _CredentialSource(credentials)
        self._region = region

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        credentials = self._credentials.frozen()
        if credentials is None:
            raise NoCredentialsError()  # before anything is sent; the exporter logs a failed export
        for name in [name for name in request.headers if name.lower() not in _SENT_HEADERS]:
            del request.headers[name]
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body,
            headers={k: v for k, v in request.headers.items() if k.lower() in _SIGNED_HEADERS},
        )
        botocore.auth.SigV4Auth(credentials, SIGNING_SERVICE, self._region).add_auth(signed)
        request.headers.update(signed.headers.items())
        return request


def build_xray_otlp_exporter(
    *,
    region: str,
    endpoint: str | None = None,
    timeout_s: float,
    gzip: bool = True,
    credentials_provider: CredentialsProvider | None = None,
) -> OTLPSpanExporter:
    """An OTLP/HTTP span exporter to X-Ray whose every request is SigV4-signed.

    Args:
        region: the AWS region (`AWS_REGION`), for the endpoint and the signature.
        endpoint: full traces URL replacing X-Ray's (`XRAY_OTLP_ENDPOINT`; a local stand-in).
        timeout_s: bound on one export, retries included.
        gzip: compress each request body (the signature covers the compressed bytes).
        credentials_provider: where credentials come from; botocore's default chain by default.
    """
    if not region:
        raise ValueError("X-Ray over OTLP needs AWS_REGION (it is part of the endpoint and the signature)")
    session = requests.Session()
    session.auth = SigV4Auth(credentials_provider or default_credentials, region)
    exporter = OTLPSpanExporter(
        endpoint=endpoint or default_endpoint(region),
        timeout=timeout_s,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
        session=session,
    )
    # The exporter applied `OTEL_EXPORTER_OTLP_CERTIFICATE`/`_CLIENT_*`: they describe the main
    # OTLP backend, not AWS.
    session.verify, session.cert = True, None
    return exporter


def build_xray_otlp_processor(
    *,
    region: str,
    endpoint: str | None = None,
    timeout_s: float,
    max_queue_size: int,
    schedule_delay_ms: int,
    max_export_batch_size: int = 512,
    gzip: bool = True,
    credentials_provider: CredentialsProvider | None = None,
) -> SpanProcessor:
    """The X-Ray exporter behind its own bounded batch processor: add it to the tracer provider.

    Args:
        region, endpoint, timeout_s, gzip, credentials_provider: as for `build_xray_otlp_exporter`.
        max_queue_size: spans held at most while X-Ray is slow or down; beyond it the oldest are dropped.
        schedule_delay_ms: how long spans wait for a batch.
        max_export_batch_size: spans a request sends at most (cut to `max_queue_size`).
    """
    exporter = build_xray_otlp_exporter(
        region=region,
        endpoint=endpoint,
        timeout_s=timeout_s,
        gzip=gzip,
        credentials_provider=credentials_provider,
    )
    return BatchSpanProcessor(
        exporter,
        max_queue_size=max_queue_size,
        schedule_delay_millis=schedule_delay_ms,
        max_export_batch_size=min(max_export_batch_size, max_queue_size),
        export_timeout_millis=timeout_s * 1000,
    )
