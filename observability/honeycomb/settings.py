"""Where Honeycomb's API is and the key that may change it: read by the setup command only.

Reads `HONEYCOMB_CONFIGURATION_KEY` (a configuration key with the "Manage Queries and Columns" and
"Manage Public Boards" permissions; never the ingest key the collector sends spans with, and never
given to a service), `HONEYCOMB_API_ENDPOINT`, `HONEYCOMB_TEAM` and `HONEYCOMB_ENVIRONMENT` (the
slugs, to print links).
"""

from __future__ import annotations

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.checks import check_url


class HoneycombSetupSettings(BaseSettings):
    """The Honeycomb API endpoint and configuration key the setup command uses."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    honeycomb_configuration_key: SecretStr | None = None
    honeycomb_api_endpoint: str = "https://api.honeycomb.io"
    honeycomb_team: str | None = None
    honeycomb_environment: str | None = None

    @field_validator("honeycomb_api_endpoint")
    @classmethod
    def _api_url(cls, value: str) -> str:
        checked = check_url(value)
        assert checked is not None
        return checked.rstrip("/")

    def ui_url(self) -> str:
        """Honeycomb's UI for this API: the EU instance for the EU API, the US one otherwise."""
        return (
            "https://ui.eu1.honeycomb.io"
            if ".eu1." in self.honeycomb_api_endpoint
            else "https://ui.honeycomb.io"
        )
