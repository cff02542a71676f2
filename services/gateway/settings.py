"""gateway's settings: where activities and users live, the secret that signs tokens, the browser's."""

from __future__ import annotations

import logging

from pydantic import Field, SecretStr, field_validator, model_validator

from observability import BrowserSettings
from services.common.settings import Port, ServiceSettings, check_base_url

log = logging.getLogger(__name__)

DEV_AUTH_SECRET = "cruddur-development-secret-do-not-use-in-production"


class GatewaySettings(ServiceSettings, BrowserSettings):
    """Environment of the gateway (`PORT` 8000 by default), and what it tells and allows browsers."""

    port: Port = 8000
    users_url: str = "http://127.0.0.1:8002"
    activities_url: str = "http://127.0.0.1:8001"
    auth_secret: SecretStr | None = None
    auth_token_ttl: int = Field(default=3600, gt=0, description="seconds a minted token lives")

    @field_validator("users_url", "activities_url")
    @classmethod
    def _downstream_urls(cls, value: str) -> str:
        return check_base_url(value)

    @model_validator(mode="after")
    def _auth_secret(self) -> GatewaySettings:
        if self.auth_secret is not None and len(self.auth_secret.get_secret_value()) < 32:
            # RFC 7518 3.2: an HS256 key must be at least as long as the hash (32 bytes).
            raise ValueError("AUTH_SECRET must be at least 32 characters")
        if self.auth_secret is None:
            if self.is_production:
                raise ValueError("AUTH_SECRET must be set when ENVIRONMENT=production")
            log.warning("AUTH_SECRET is not set: using the development secret (never in production)")
            self.auth_secret = SecretStr(DEV_AUTH_SECRET)
        return self

    @property
    def is_development(self) -> bool:
        """Only here may the page mint itself a token (`POST /api/dev/token`)."""
        return self.environment.lower() == "development"

    @property
    def secret(self) -> str:
        assert self.auth_secret is not None  # set by the validator
        return self.auth_secret.get_secret_value()
