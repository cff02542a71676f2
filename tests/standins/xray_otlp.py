"""X-Ray's OTLP endpoint on loopback: checks each request's SigV4 signature, then decodes the spans.

The signature is recomputed from the SigV4 specification with `hashlib`/`hmac` (not with botocore,
which signs on the exporter's side) over what arrived: the method, the path, the headers named in
`SignedHeaders` and the body bytes as received (compressed, when they are). A request that is not
signed, signed for another region or service, signed with a secret the stand-in does not know, or
whose signed parts changed is answered 403 and counted in `forbidden`, with the reason in `reasons`.
Stricter than AWS on one point, to pin our exporter: `content-type`, and `content-encoding` when
sent, must be signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

from tests.standins.otlp import OtlpReceiver

ACCESS_KEY = "AKIDXRAYSTANDIN00001"
SECRET_KEY = "xray/stand-in/secret/key/known/to/tests"
REGION = "eu-west-2"
MAX_CLOCK_SKEW = timedelta(minutes=5)  # as AWS

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})"
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature(secret: str, scope: str, amz_date: str, canonical_request: str) -> str:
    """The SigV4 signature of a canonical request under the scope `date/region/service/aws4_request`."""
    date, region, service, _ = scope.split("/")
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(canonical_request.encode())])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def canonical_request(
    method: str, path: str, headers: Mapping[str, str], signed: list[str], body: bytes
) -> str:
    """SigV4's canonical form of a request: only the headers in `signed` (lower-case names) count."""
    url = urlsplit(path)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(url.query, keep_blank_values=True))
    )
    lines = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    return "\n".join(
        [method, quote(url.path or "/", safe="/~"), query, lines, ";".join(signed), _sha256(body)]
    )


def check(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Mapping[str, str],
    region: str,
) -> str | None:
    """None if the request is signed right for X-Ray in `region`; otherwise why it is not."""
    match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if match is None:
        return "no SigV4 Authorization header"
    if (match["region"], match["service"]) != (region, "xray"):
        return f"credential scope names {match['region']}/{match['service']}, not {region}/xray"
    secret = secrets.get(match["key"])
    if secret is None:
        return "unknown access key"
    amz_date = headers.get("x-amz-date", "")
    try:
        sent_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "no valid X-Amz-Date"
    if amz_date[:8] != match["date"] or abs(datetime.now(UTC) - sent_at) > MAX_CLOCK_SKEW:
        return "X-Amz-Date out of range"
    signed = match["signed"].split(";")
    must_sign = {"host", "x-amz-date", "content-type"} | (
        {"content-encoding", "x-amz-security-token"} & headers.keys()
    )
    if missing := sorted(must_sign - set(signed)):
        return f"not signed: {', '.join(missing)}"
    if signed != sorted(signed) or any(name not in headers for name in signed):
        return "SignedHeaders names headers not sent, or out of order"
    scope = f"{match['date']}/{region}/xray/aws4_request"
    expected = signature(secret, scope, amz_date, canonical_request(method, path, headers, signed, body))
    if not hmac.compare_digest(expected, match["signature"]):
        return "signature does not match"
    return None


@dataclass
class XrayOtlpReceiver(OtlpReceiver):
    """The OTLP receiver behind a SigV4 check with known test credentials; `traces_url` is the endpoint."""

    region: str = REGION
    secrets: dict[str, str] = field(default_factory=lambda: {ACCESS_KEY: SECRET_KEY})
    reasons: list[str] = field(default_factory=list)
    access_keys: list[str] = field(default_factory=list)  # of each accepted request, in order

    @property
    def traces_url(self) -> str:
        return f"{self.endpoint}/v1/traces"

    def authorize(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
        reason = check(method, path, headers, body, secrets=self.secrets, region=self.region)
        with self._lock:
            if reason is None:
                self.access_keys.append(headers["authorization"].split("Credential=")[1].split("/")[0])
            else:
                self.reasons.append(reason)
        return reason is None

    def counts(self) -> tuple[int, int]:
        """(accepted, forbidden) requests so far."""
        with self._lock:
            return len(self.access_keys), self.forbidden
