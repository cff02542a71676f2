"""One redaction policy for every sink: span URL attributes, access lines, X-Ray, Rollbar, error text."""

from __future__ import annotations

import pytest

from observability.redact import REDACTED, is_secret_name, scrub_query, scrub_text, scrub_url
from observability.settings import TelemetrySettings

SECRET_NAMES = [
    "api_key",
    "token",
    "access_token",
    "password",
    "secret",
    "client_secret",
    "access_key",
    "key",
    "private_key",
    "pwd",
    "pass",
    "auth",
    "sig",
    "signature",
    "jwt",
    "X-Amz-Signature",
]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3b3JmIn0.c2lnbmF0dXJlLXZhbHVl"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_like_names_are_secret(name: str) -> None:
    """Every secret-like parameter name the audit listed counts as a secret; ordinary ones do not."""
    assert is_secret_name(name)
    assert scrub_query(f"{name}=hunter2&handle=worf") == f"{name}={REDACTED}&handle=worf"


@pytest.mark.parametrize("name", ["handle", "limit", "monkey", "design", "www-authenticate", "passenger"])
def test_ordinary_names_are_not_secret(name: str) -> None:
    """Names that merely contain a short secret word (`monkey`, `design`) keep their values."""
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"/api/activities/@{JWT}", "/api/activities/@"),
        (f"id {AWS_KEY_ID} used", "id "),
        (
            "(sqlite3.IntegrityError) UNIQUE\n[SQL: INSERT ...]\n[parameters: ('x', 'my post')]",
            "[SQL: INSERT",
        ),
        ("sig=abc123&x=1", "sig="),
    ],
)
def test_secret_shapes_are_redacted_in_text(text: str, kept: str) -> None:
    """JWTs, AWS access key ids, SQL parameters and `sig=` values are replaced wherever they appear."""
    scrubbed = scrub_text(text)
    assert REDACTED in scrubbed and kept in scrubbed
    for secret in (JWT, AWS_KEY_ID, "my post", "abc123"):
        assert secret not in scrubbed


def test_urls_lose_user_info_and_secret_values() -> None:
    """A URL keeps its host and ordinary parameters, never its user info or a secret value."""
    url = scrub_url(f"http://bob:pw@gw:8000/api/x/{JWT}?token=t0k&handle=worf")
    assert url == f"http://gw:8000/api/x/{REDACTED}?token={REDACTED}&handle=worf"


def test_honeycomb_key_goes_only_to_honeycomb(monkeypatch: pytest.MonkeyPatch) -> None:
    """With another OTLP endpoint set, the Honeycomb key is not sent there; alone, it goes to Honeycomb."""
    monkeypatch.setenv("HONEYCOMB_API_KEY", "hcaik_secret")
    alone = TelemetrySettings()
    assert alone.otlp_traces_endpoint() == "https://api.honeycomb.io/v1/traces"
    assert alone.otlp_headers() == {"x-honeycomb-team": "hcaik_secret"}
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4318")
    both = TelemetrySettings()
    assert both.otlp_traces_endpoint() == "http://collector.example:4318/v1/traces"
    assert "x-honeycomb-team" not in both.otlp_headers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.honeycomb.io")
    assert TelemetrySettings().otlp_headers() == {"x-honeycomb-team": "hcaik_secret"}


def test_an_exception_event_is_redacted_on_the_span() -> None:
    """An unhandled error's message recorded on the span passes through the same redaction policy."""
    from observability.rollbar.middleware import scrubbed

    try:
        raise RuntimeError(f"failed with token={JWT} for {AWS_KEY_ID}")
    except RuntimeError as error:
        attributes = scrubbed(error)
    assert JWT not in attributes["exception.message"] and AWS_KEY_ID not in attributes["exception.message"]
    assert JWT not in attributes["exception.stacktrace"]
