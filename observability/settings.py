"""Telemetry settings, read from the environment by the standard names.

Reads `ENVIRONMENT`, `SERVICE_VERSION`, `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`,
`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
`OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
`OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`, `HONEYCOMB_API_KEY` and `HONEYCOMB_API_ENDPOINT`;
for X-Ray `AWS_XRAY_SDK_ENABLED`, `AWS_XRAY_DAEMON_ADDRESS`, `XRAY_SAMPLING_RULES`,
`XRAY_CENTRALIZED_SAMPLING`, `XRAY_STREAMING_THRESHOLD` and `CLOUDWATCH_LOG_GROUP`.
for errors and logs `LOG_LEVEL`, `ROLLBAR_*`, `CLOUDWATCH_*`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, `HONEYCOMB_TEAM` and `HONEYCOMB_ENVIRONMENT` (trace links).
Nothing else in the project reads the environment (boto3 reads the AWS credentials itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SamplerName = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]


def parse_otlp_headers(raw: str) -> dict[str, str]:
    """Parse `OTEL_EXPORTER_OTLP_HEADERS` (`k1=v1,k2=v2`, values URL-encoded) into a dict.

    Args:
        raw: the variable's value.

    Raises:
        ValueError: an entry has no `=` or an empty key (the value itself is never echoed).
    """
    headers: dict[str, str] = {}
    for position, entry in enumerate(raw.split(","), start=1):
        if not entry.strip():
            continue
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"entry {position} is not of the form key=value")
        headers[unquote(key.strip()).lower()] = unquote(value.strip())
    return headers


def _check_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL with a host, got {value!r}")
    return value.rstrip("/")


class TelemetrySettings(BaseSettings):
    """What every service reads to configure its telemetry; every integration is off unless set."""

    # An empty variable is unset, as the OTel spec says: `KEY=` in a .env file (or `${KEY:-}` in compose)
    # must not switch an integration on with an empty key, nor fail a URL check.
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    environment: str = "development"
    service_version: str = "0.1.0"

    otel_sdk_disabled: bool = False
    otel_service_name: str | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_exporter_otlp_headers: SecretStr | None = None
    otel_exporter_otlp_timeout: int = Field(default=10_000, gt=0, description="milliseconds")
    otel_traces_sampler: SamplerName = "parentbased_always_on"
    otel_traces_sampler_arg: float | None = Field(default=None, ge=0.0, le=1.0)
    otel_bsp_schedule_delay: int = Field(default=5_000, gt=0, description="milliseconds")
    otel_bsp_max_queue_size: int = Field(default=2_048, gt=0)

    honeycomb_api_key: SecretStr | None = None
    honeycomb_api_endpoint: str = "https://api.honeycomb.io"
    honeycomb_team: str | None = None
    honeycomb_environment: str | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    rollbar_access_token: SecretStr | None = None
    rollbar_endpoint: str = "https://api.rollbar.com/api/1"
    rollbar_environment: str | None = None
    rollbar_rate_limit: int = Field(default=10, ge=0, description="items per fingerprint per window")
    rollbar_rate_window: float = Field(default=60.0, gt=0, description="seconds")
    rollbar_queue_size: int = Field(default=100, gt=0)
    rollbar_timeout: float = Field(default=5.0, gt=0, description="seconds per delivery")
    cloudwatch_log_group: str | None = None
    cloudwatch_send_interval: float = Field(default=5.0, gt=0, description="seconds between batches")
    cloudwatch_queue_size: int = Field(default=10_000, gt=0, description="lines buffered at most")
    cloudwatch_retry_max: float = Field(default=30.0, gt=0, description="seconds, longest retry backoff")
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    aws_endpoint_url_cloudwatch_logs: str | None = None

    aws_xray_sdk_enabled: bool | None = None
    aws_xray_daemon_address: str | None = None
    xray_sampling_rules: Path | None = None
    xray_centralized_sampling: bool = False
    xray_streaming_threshold: int = Field(default=20, ge=0, description="closed subsegments kept")

    @field_validator("otel_traces_sampler", mode="before")
    @classmethod
    def _lower_sampler(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(
        "otel_exporter_otlp_endpoint",
        "otel_exporter_otlp_traces_endpoint",
        "honeycomb_api_endpoint",
        "rollbar_endpoint",
        "aws_endpoint_url",
        "aws_endpoint_url_cloudwatch_logs",
    )
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _check_url(value)

    @field_validator("otel_exporter_otlp_headers")
    @classmethod
    def _headers(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_otlp_headers(value.get_secret_value())
        return value

    @field_validator("aws_xray_daemon_address")
    @classmethod
    def _daemon_address(cls, value: str | None) -> str | None:
        from observability.xray_settings import check_daemon_address

        return check_daemon_address(value)

    @field_validator("xray_sampling_rules")
    @classmethod
    def _rules_file(cls, value: Path | None) -> Path | None:
        from observability.xray_settings import check_rules_file

        return check_rules_file(value)

    @model_validator(mode="after")
    def _sampler_arg(self) -> TelemetrySettings:
        if self.otel_traces_sampler.endswith("traceidratio") and self.otel_traces_sampler_arg is None:
            self.otel_traces_sampler_arg = 1.0
        return self

    @model_validator(mode="after")
    def _cloudwatch_region(self) -> TelemetrySettings:
        if self.cloudwatch_log_group and not self.aws_region:
            raise ValueError("AWS_REGION must be set when CLOUDWATCH_LOG_GROUP is set")
        return self

    def cloudwatch_endpoint(self) -> str | None:
        """The CloudWatch Logs endpoint: the service-specific variable first, then `AWS_ENDPOINT_URL`."""
        return self.aws_endpoint_url_cloudwatch_logs or self.aws_endpoint_url

    @property
    def is_production(self) -> bool:
        return self.environment.lower() in ("production", "prod")

    def otlp_traces_endpoint(self) -> str | None:
        """The OTLP/HTTP traces URL: the per-signal variable as is, else `<base>/v1/traces`."""
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return f"{self.otel_exporter_otlp_endpoint}/v1/traces"
        if self.honeycomb_api_key is not None:
            return f"{self.honeycomb_api_endpoint}/v1/traces"
        return None

    def otlp_headers(self) -> dict[str, str]:
        """Headers for the OTLP exporter, with `x-honeycomb-team` added when the key is set."""
        headers = {}
        if self.otel_exporter_otlp_headers is not None:
            headers = parse_otlp_headers(self.otel_exporter_otlp_headers.get_secret_value())
        if self.honeycomb_api_key is not None:
            headers.setdefault("x-honeycomb-team", self.honeycomb_api_key.get_secret_value())
        return headers

    @property
    def tracing_enabled(self) -> bool:
        """Spans and trace context exist unless `OTEL_SDK_DISABLED=true` (exporting is separate)."""
        return not self.otel_sdk_disabled

    @property
    def exporting(self) -> bool:
        """Spans leave the process only when an OTLP endpoint (or the Honeycomb key) is set."""
        return self.tracing_enabled and self.otlp_traces_endpoint() is not None

    @property
    def xray_enabled(self) -> bool:
        """X-Ray is on when `AWS_XRAY_SDK_ENABLED=true`, or a daemon address is set and it is not `false`."""
        if self.otel_sdk_disabled or self.aws_xray_sdk_enabled is False:
            return False
        return bool(self.aws_xray_sdk_enabled) or self.aws_xray_daemon_address is not None
