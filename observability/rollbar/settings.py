"""Rollbar's settings: `ROLLBAR_ACCESS_TOKEN` switches it on; the rest bound what it may cost.

Reads `ROLLBAR_ACCESS_TOKEN`, `ROLLBAR_ENDPOINT`, `ROLLBAR_ENVIRONMENT`, `ROLLBAR_RATE_LIMIT`,
`ROLLBAR_RATE_WINDOW`, `ROLLBAR_QUEUE_SIZE` and `ROLLBAR_TIMEOUT`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.checks import check_url


class RollbarSettings(BaseSettings):
    """Unhandled errors to Rollbar's item API, bounded by a rate limit and a queue."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    rollbar_access_token: SecretStr | None = None
    rollbar_endpoint: str = "https://api.rollbar.com/api/1"
    rollbar_environment: str | None = None
    rollbar_rate_limit: int = Field(default=10, ge=0, description="items per fingerprint per window")
    rollbar_rate_window: float = Field(default=60.0, gt=0, description="seconds")
    rollbar_queue_size: int = Field(default=100, gt=0)
    rollbar_timeout: float = Field(default=5.0, gt=0, description="seconds per delivery")

    @field_validator("rollbar_endpoint")
    @classmethod
    def _rollbar_url(cls, value: str | None) -> str | None:
        return check_url(value)
