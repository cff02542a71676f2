"""OpenTelemetry's settings, by the names the OTel spec gives them, and the Honeycomb shortcut.

Reads `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`,
`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `HONEYCOMB_API_KEY`, `HONEYCOMB_API_ENDPOINT`, `HONEYCOMB_TEAM` and
`HONEYCOMB_ENVIRONMENT`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.checks import check_url

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


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class OtelSettings(BaseSettings):
    """Spans and their export; spans exist unless `OTEL_SDK_DISABLED=true`, export needs an endpoint."""

    # An empty variable is unset, as the OTel spec says: `KEY=` in a .env file (or `${KEY:-}` in compose)
    # must not switch an integration on with an empty key, nor fail a URL check.
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

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
    otel_bsp_max_export_batch_size: int = Field(default=512, gt=0)

    # Follow a remote caller's sampling decision. Internal services trust their caller (the gateway);
    # the gateway overrides it to false: the public decides no sampling (see `otel/edge.py`).
    trust_incoming_sampling: bool = True

    honeycomb_api_key: SecretStr | None = None
    honeycomb_api_endpoint: str = "https://api.honeycomb.io"
    honeycomb_team: str | None = None
    honeycomb_environment: str | None = None

    @field_validator("otel_traces_sampler", mode="before")
    @classmethod
    def _lower_sampler(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(
        "otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint", "honeycomb_api_endpoint"
    )
    @classmethod
    def _otel_urls(cls, value: str | None) -> str | None:
        return check_url(value)

    @field_validator("otel_exporter_otlp_headers")
    @classmethod
    def _headers(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_otlp_headers(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _batch_within_queue(self) -> OtelSettings:
        if (
            "otel_bsp_max_export_batch_size" in self.model_fields_set
            and self.otel_bsp_max_export_batch_size > self.otel_bsp_max_queue_size
        ):
            raise ValueError(
                f"OTEL_BSP_MAX_EXPORT_BATCH_SIZE ({self.otel_bsp_max_export_batch_size}) is larger than "
                f"OTEL_BSP_MAX_QUEUE_SIZE ({self.otel_bsp_max_queue_size}): a batch is taken from the queue"
            )
        return self

    @model_validator(mode="after")
    def _sampler_arg(self) -> OtelSettings:
        if self.otel_traces_sampler.endswith("traceidratio") and self.otel_traces_sampler_arg is None:
            self.otel_traces_sampler_arg = 1.0
        return self

    def export_batch_size(self) -> int:
        """Spans a batch export sends at most: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, the default cut to a
        smaller queue (the SDK refuses a batch larger than its queue)."""
        return min(self.otel_bsp_max_export_batch_size, self.otel_bsp_max_queue_size)

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
        """Headers for the OTLP exporter; `x-honeycomb-team` only when the spans go to Honeycomb's endpoint.

        With another endpoint set (a collector, say) the key stays here: it is Honeycomb's secret,
        not the collector's, and the collector adds it itself (see `deploy/otel-collector-honeycomb.yaml`).
        """
        headers = {}
        if self.otel_exporter_otlp_headers is not None:
            headers = parse_otlp_headers(self.otel_exporter_otlp_headers.get_secret_value())
        if self.honeycomb_api_key is not None and self.sends_to_honeycomb():
            headers.setdefault("x-honeycomb-team", self.honeycomb_api_key.get_secret_value())
        return headers

    def sends_to_honeycomb(self) -> bool:
        """Whether the traces endpoint is Honeycomb's own (same scheme, host and port)."""
        endpoint = self.otlp_traces_endpoint()
        if endpoint is None:
            return False
        return _origin(endpoint) == _origin(self.honeycomb_api_endpoint)

    @property
    def tracing_enabled(self) -> bool:
        """Spans and trace context exist unless `OTEL_SDK_DISABLED=true` (exporting is separate)."""
        return not self.otel_sdk_disabled

    @property
    def exporting(self) -> bool:
        """Spans leave the process only when an OTLP endpoint (or the Honeycomb key) is set."""
        return self.tracing_enabled and self.otlp_traces_endpoint() is not None
