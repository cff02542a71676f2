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
    # The public edge makes its own sampling decision (the caller's trace id is still continued);
    # true only behind a proxy whose decision should be followed.
    trust_incoming_sampling: bool = False
    users_url: str = "http://127.0.0.1:8002"
    activities_url: str = "http://127.0.0.1:8001"
    auth_secret: SecretStr | None = None
    auth_token_ttl: int = Field(default=3600, gt=0, description="seconds a minted token lives")
    # The gateway refuses a token whose `exp` lies further ahead than this, whoever signed it.
    auth_token_max_ttl: int = Field(default=86_400, gt=0, description="seconds a token may live at most")

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
            # Fail closed: only exactly ENVIRONMENT=development may sign with the public secret.
            if not self.is_development:
                raise ValueError(
                    f"AUTH_SECRET must be set unless ENVIRONMENT=development (it is {self.environment!r})"
                )
            log.warning("AUTH_SECRET is not set: using the public development secret (development only)")
            self.auth_secret = SecretStr(DEV_AUTH_SECRET)
        if self.auth_token_ttl > self.auth_token_max_ttl:
            raise ValueError("AUTH_TOKEN_TTL must not exceed AUTH_TOKEN_MAX_TTL")
        return self

    @property
    def secret(self) -> str:
        assert self.auth_secret is not None  # set by the validator
        return self.auth_secret.get_secret_value()
