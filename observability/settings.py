"""Every service's telemetry settings: each backend's own, side by side in one object.

Each backend declares and checks its variables beside its code (`otel/settings.py`,
`xray/settings.py`, `rollbar/settings.py`, `logs/settings.py`); this class adds what they share
(`ENVIRONMENT`, `SERVICE_VERSION`) and the checks that need two of them. Nothing else in the project
reads the environment (boto3 reads the AWS credentials itself).
"""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from observability.logs.settings import LogsSettings
from observability.otel.settings import OtelSettings, parse_otlp_headers
from observability.rollbar.settings import RollbarSettings
from observability.xray.settings import XRayMode, XRaySettings

__all__ = ["TelemetrySettings", "parse_otlp_headers"]


class TelemetrySettings(OtelSettings, XRaySettings, RollbarSettings, LogsSettings):
    """What every service reads to configure its telemetry; every export is off unless set."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    environment: str = "development"
    service_version: str = "0.1.0"

    @model_validator(mode="after")
    def _xray_region(self) -> TelemetrySettings:
        if self.xray_mode == "otlp" and not self.aws_region:
            raise ValueError(
                "XRAY_EXPORTER=otlp needs AWS_REGION (the X-Ray endpoint and signature are per region)"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment.lower() in ("production", "prod")

    @property
    def xray_mode(self) -> XRayMode:
        """How spans reach X-Ray; always `off` when `OTEL_SDK_DISABLED=true` (X-Ray takes OTel's ids)."""
        return "off" if self.otel_sdk_disabled else self.xray_mode_requested()

    @property
    def xray_enabled(self) -> bool:
        """X-Ray is on: its rules sample at the root and `X-Amzn-Trace-Id` crosses every hop."""
        return self.xray_mode != "off"
