"""The X-Ray OTLP stand-in refuses what X-Ray would refuse, so the exporter's tests can fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.standins.xray_otlp import ACCESS_KEY, REGION, SECRET_KEY, XrayOtlpReceiver

BODY = ExportTraceServiceRequest().SerializeToString()


@pytest.fixture
def xray() -> Iterator[XrayOtlpReceiver]:
    receiver = XrayOtlpReceiver().start()
    yield receiver
    receiver.stop()


def signed(url: str, *, service: str = "xray", region: str = REGION, secret: str = SECRET_KEY) -> AWSRequest:
    """A request botocore signed the way AWS documents, independent of the exporter under test."""
    request = AWSRequest("POST", url, data=BODY, headers={"Content-Type": "application/x-protobuf"})
    SigV4Auth(Credentials(ACCESS_KEY, secret), service, region).add_auth(request)
    return request


def send(request: AWSRequest, body: bytes = BODY) -> int:
    return requests.post(request.url, data=body, headers=dict(request.headers.items()), timeout=5).status_code


def test_a_request_botocore_signed_is_accepted(xray: XrayOtlpReceiver) -> None:
    """A request signed by botocore with the stand-in's credentials passes the recomputed signature."""
    assert send(signed(xray.traces_url)) == 200
    assert xray.counts() == (1, 0)


def _drop_authorization(request: AWSRequest) -> None:
    del request.headers["Authorization"]


def _retype(request: AWSRequest) -> None:
    request.headers.replace_header("Content-Type", "application/json")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_drop_authorization, "no SigV4 Authorization header"),
        (_retype, "signature does not match"),
    ],
)
def test_an_unsigned_or_altered_request_is_refused(
    xray: XrayOtlpReceiver, change: Callable[[AWSRequest], None], reason: str
) -> None:
    """No Authorization header, or a signed header changed after signing: 403, counted, with the reason."""
    request = signed(xray.traces_url)
    change(request)
    assert send(request) == 403
    assert xray.counts() == (0, 1) and xray.reasons == [reason]


def test_a_body_changed_after_signing_is_refused(xray: XrayOtlpReceiver) -> None:
    """The signature covers the body: other bytes under the same headers get a 403."""
    assert send(signed(xray.traces_url), body=BODY + b"\x08\x01") == 403
    assert xray.reasons == ["signature does not match"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"service": "logs"}, f"credential scope names {REGION}/logs, not {REGION}/xray"),
        ({"region": "us-east-1"}, f"credential scope names us-east-1/xray, not {REGION}/xray"),
        ({"secret": "another-secret"}, "signature does not match"),
    ],
)
def test_another_scope_or_secret_is_refused(
    xray: XrayOtlpReceiver, kwargs: dict[str, str], reason: str
) -> None:
    """Signed for another service or region, or with a secret the stand-in does not know: 403."""
    assert send(signed(xray.traces_url, **kwargs)) == 403
    assert xray.reasons == [reason]
