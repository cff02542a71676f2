"""Configuration: environment → one settings object, and bad configuration stops start-up clearly."""

from __future__ import annotations

import logging
import re

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from observability import telemetry
from observability.settings import TelemetrySettings, parse_otlp_headers
from services.common.server import load_settings
from services.common.settings import ServiceSettings
from services.gateway.settings import DEV_AUTH_SECRET, GatewaySettings
from services.users.settings import UsersSettings


def test_exporting_is_off_unless_an_endpoint_or_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing configured spans are made but not exported; OTEL_SDK_DISABLED turns tracing off."""
    settings = TelemetrySettings()
    assert settings.otlp_traces_endpoint() is None and not settings.exporting and settings.tracing_enabled
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not TelemetrySettings().tracing_enabled and not TelemetrySettings().exporting


def test_otlp_endpoint_gets_the_traces_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The base endpoint gets /v1/traces; the per-signal variable is used as is."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert TelemetrySettings().otlp_traces_endpoint() == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/custom")
    assert TelemetrySettings().otlp_traces_endpoint() == "http://other:4318/custom"


def test_honeycomb_key_is_a_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """HONEYCOMB_API_KEY alone exports to Honeycomb with the x-honeycomb-team header."""
    monkeypatch.setenv("HONEYCOMB_API_KEY", "hc-key")
    settings = TelemetrySettings()
    assert settings.otlp_traces_endpoint() == "https://api.honeycomb.io/v1/traces"
    assert settings.otlp_headers() == {"x-honeycomb-team": "hc-key"}
    assert "hc-key" not in repr(settings)


def test_otlp_headers_are_parsed_and_url_decoded() -> None:
    """Headers follow the OTel spec's key=value list with URL-encoded values."""
    assert parse_otlp_headers("a=1, B=x%3Dy,,c=") == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ValueError, match="entry 2"):
        parse_otlp_headers("a=1,secret-without-equals")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
        ("PORT", "70000"),
        ("DATABASE_URL", "mysql://db/users"),
        ("DATABASE_URL", "not a url"),
    ],
)
def test_bad_configuration_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Each malformed variable is a validation error naming that variable."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        UsersSettings()
    assert name.lower() in str(error.value).lower()


def test_an_export_batch_is_at_most_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """An export batch larger than the queue is refused naming both variables; unset, 512 is cut to a
    smaller queue."""
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100")
    assert UsersSettings().export_batch_size() == 100
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "60")
    assert UsersSettings().export_batch_size() == 60
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "101")
    with pytest.raises(
        ValidationError,
        match=re.escape("OTEL_BSP_MAX_EXPORT_BATCH_SIZE (101) is larger than OTEL_BSP_MAX_QUEUE_SIZE (100)"),
    ):
        UsersSettings()


def test_load_settings_exits_with_one_line_per_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Start-up with bad configuration exits 2, names the variable and never echoes secret values."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team")
    monkeypatch.setenv("PORT", "zero")
    with pytest.raises(SystemExit) as exit_info:
        load_settings(UsersSettings)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "PORT:" in err and "OTEL_EXPORTER_OTLP_HEADERS:" in err
    assert "x-honeycomb-team" not in err


def test_plain_database_urls_get_their_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """postgresql:// URLs are given asyncpg; sqlite:// (and the former sqlite+aiosqlite://) pysqlite."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db:5432/users")
    assert UsersSettings().database_url == "postgresql+asyncpg://app:pw@db:5432/users"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./data/u.db")
    assert UsersSettings().database_url == "sqlite+pysqlite:///./data/u.db"
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///./data/u.db")
    assert UsersSettings().database_url == "sqlite+pysqlite:///./data/u.db"


def test_production_refuses_to_start_without_auth_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENVIRONMENT=production without AUTH_SECRET is an error; development falls back to the dev secret."""
    assert GatewaySettings().secret == DEV_AUTH_SECRET
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="AUTH_SECRET"):
        GatewaySettings()
    monkeypatch.setenv("AUTH_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        GatewaySettings()
    monkeypatch.setenv("AUTH_SECRET", "a-long-enough-production-secret-0123")
    assert GatewaySettings().secret == "a-long-enough-production-secret-0123"


def test_production_refuses_faults(caplog: pytest.LogCaptureFixture) -> None:
    """FAULTS_ENABLED=true with ENVIRONMENT=production leaves faults off and says so in one error line."""
    settings = ServiceSettings(faults_enabled=True, environment="production")
    with caplog.at_level(logging.ERROR, logger="cruddur.faults"):
        made = telemetry.configure(settings, service_name="users", span_exporter=InMemorySpanExporter())
    assert made.faults.active is False and "faults" not in made.active()
    assert [r.getMessage() for r in caplog.records if r.name == "cruddur.faults"] == [
        "FAULTS_ENABLED=true refused: ENVIRONMENT=production, no fault will be injected"
    ]
    made.shutdown()
