"""The fault injection's settings: off unless `FAULTS_ENABLED=true`, and never in production.

Reads `FAULTS_ENABLED`, `FAULTS_SECRET` and `FAULTS_MAX_DELAY`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("cruddur.faults")


class FaultSettings(BaseSettings):
    """Faults carried in baggage (README "Break it on purpose"); every one is bounded by these."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    faults_enabled: bool = False
    # At the gateway: client faults are accepted only with this value in `X-Fault-Secret`.
    faults_secret: SecretStr | None = None
    faults_max_delay: float = Field(default=10.0, gt=0, le=60, description="seconds, any delay or hang")


@dataclass(frozen=True)
class FaultOptions:
    """What the fault middleware of a process runs with (`active` is False in production)."""

    active: bool
    secret: str | None = None
    cap: float = 10.0


def fault_options(settings: FaultSettings, *, production: bool) -> FaultOptions:
    """The process's fault options; `FAULTS_ENABLED=true` in production is refused with a clear line.

    Args:
        settings: the fault settings.
        production: `ENVIRONMENT=production`.
    """
    secret = settings.faults_secret.get_secret_value() if settings.faults_secret is not None else None
    if not settings.faults_enabled:
        return FaultOptions(active=False, secret=secret, cap=settings.faults_max_delay)
    if production:
        log.error("FAULTS_ENABLED=true refused: ENVIRONMENT=production, no fault will be injected")
        return FaultOptions(active=False, secret=secret, cap=settings.faults_max_delay)
    log.warning(
        "faults ON: requests may carry delays and errors in baggage (%s)",
        "the gateway wants X-Fault-Secret" if secret else "no secret: any client of the gateway may",
    )
    return FaultOptions(active=True, secret=secret, cap=settings.faults_max_delay)
