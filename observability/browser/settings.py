"""The gateway's browser settings: where the page sends its spans, trace links, cross-origin pages.

Reads `BROWSER_TRACES_ENDPOINT`, `JAEGER_UI_URL` and `CORS_ALLOWED_ORIGINS`, beside every telemetry
setting (the relay forwards to the gateway's own OTLP endpoint, with its headers).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import field_validator

from observability.checks import check_url
from observability.links import honeycomb_link, jaeger_link, xray_link
from observability.settings import TelemetrySettings


def check_origins(value: str | None) -> str | None:
    """A comma-separated list of origins (`scheme://host[:port]`, no path, no `*`), or None."""
    if value is None or not value.strip():
        return None
    for origin in (part.strip() for part in value.split(",")):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
    return value


# Addresses the browser uses from the user's machine, not the gateway from its container: there
# `localhost` is right (compose publishes the gateway, the collector and Jaeger on the host's loopback).
BROWSER_FACING_FIELDS = frozenset({"browser_traces_endpoint", "jaeger_ui_url", "cors_allowed_origins"})


class BrowserSettings(TelemetrySettings):
    """What the public edge tells and allows browsers; the page itself holds no key."""

    # Unset: the page exports to the gateway's own relay (on when the gateway exports spans). Set
    # (compose: the collector's OTLP/HTTP receiver, which allows the page's origin): there, directly.
    browser_traces_endpoint: str | None = None
    jaeger_ui_url: str | None = "http://localhost:16686"
    cors_allowed_origins: str | None = None

    @field_validator("browser_traces_endpoint", "jaeger_ui_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return check_url(value)

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: str | None) -> str | None:
        return check_origins(value)

    def allowed_origins(self) -> list[str]:
        """The cross-origin pages allowed to call the API with trace headers (none by default)."""
        if self.cors_allowed_origins is None:
            return []
        return [origin.strip().rstrip("/") for origin in self.cors_allowed_origins.split(",")]

    def trace_links(self) -> dict[str, str]:
        """Public link templates to a trace, by backend: `{trace_id}` (W3C) and `{xray_trace_id}`.

        Jaeger when `JAEGER_UI_URL` is set (the local one by default); Honeycomb with its team and
        environment; the X-Ray console when X-Ray is on against real AWS (a region, no local endpoint).
        """
        links: dict[str, str] = {}
        if self.jaeger_ui_url:
            links["Jaeger"] = jaeger_link(self.jaeger_ui_url, "{trace_id}")
        if self.honeycomb_team and self.honeycomb_environment:
            links["Honeycomb"] = honeycomb_link(self.honeycomb_team, self.honeycomb_environment, "{trace_id}")
        if self.xray_enabled and self.aws_region and not self.aws_endpoint_url:
            links["X-Ray"] = xray_link(self.aws_region, "{xray_trace_id}")
        return links
