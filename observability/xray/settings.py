"""X-Ray's settings: which way spans reach X-Ray, the sampling rules, and the SDK path's daemon.

Reads `XRAY_EXPORTER`, `XRAY_OTLP_ENDPOINT`, `XRAY_SAMPLING_RULES`, `XRAY_CENTRALIZED_SAMPLING`,
`XRAY_STREAMING_THRESHOLD`, `AWS_XRAY_SDK_ENABLED` and `AWS_XRAY_DAEMON_ADDRESS` (and `AWS_REGION`,
declared with the logs' settings). Bad values stop start-up with a clear message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.checks import check_url

# off: no X-Ray. otlp: the spans also go, signed, to X-Ray's OTLP endpoint from this process.
# collector: the collector sends them (this process samples by the X-Ray rules and writes the header).
# sdk: aws-xray-sdk segments over UDP to the daemon (the course's path; out of support 2027-02-25).
XRayMode = Literal["off", "otlp", "collector", "sdk"]

DEFAULT_RULES = Path(__file__).with_name("sampling_rules.json")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")


def check_daemon_address(value: str | None) -> str | None:
    """`host:port`, or `tcp:host:port udp:host:port` as the SDK and daemon spell a split address."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    parts = value.split()
    if len(parts) == 1 and _HOST_PORT.match(parts[0]):
        return value
    if len(parts) == 2:
        kinds = {part.split(":", 1)[0] for part in parts}
        if kinds == {"tcp", "udp"} and all(_HOST_PORT.match(part.split(":", 1)[1]) for part in parts):
            return value
    raise ValueError(f"must be host:port or 'tcp:host:port udp:host:port', got {value!r}")


def udp_address(value: str | None) -> tuple[str, int]:
    """Where segments go: the UDP half of a daemon address (127.0.0.1:2000 by default)."""
    for part in (value or "127.0.0.1:2000").split():
        if part.startswith("tcp:"):
            continue
        host, _, port = part.removeprefix("udp:").rpartition(":")
        return host, int(port)
    raise ValueError(f"no UDP address in {value!r}")


def tcp_address(value: str | None) -> str:
    """Where centralized sampling rules come from: the TCP half (the same host:port when not split)."""
    for part in (value or "127.0.0.1:2000").split():
        if part.startswith("tcp:"):
            return part.removeprefix("tcp:")
    return (value or "127.0.0.1:2000").split()[0].removeprefix("udp:")


def check_rules_file(value: Path | None) -> Path | None:
    """A local sampling rules file (SDK format, version 2) that exists and parses."""
    if value is None or str(value) == "":
        return None
    try:
        rules = json.loads(value.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read sampling rules from {value}: {type(exc).__name__}") from exc
    if not isinstance(rules, dict) or rules.get("version") not in (1, 2) or "default" not in rules:
        raise ValueError(f"{value} is not an X-Ray local sampling rules document (version 2, with default)")
    return value


def load_rules(value: Path | None) -> dict[str, object]:
    """The local rules document: the given file, else the one shipped beside this module."""
    loaded = json.loads((value or DEFAULT_RULES).read_text())
    assert isinstance(loaded, dict)
    return loaded


class XRaySettings(BaseSettings):
    """How spans reach X-Ray (`XRAY_EXPORTER`), and the rules that sample at the root."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    xray_exporter: XRayMode | None = None
    xray_otlp_endpoint: str | None = None
    xray_sampling_rules: Path | None = None
    xray_centralized_sampling: bool = False
    xray_streaming_threshold: int = Field(default=20, ge=0, description="closed subsegments kept")
    aws_xray_sdk_enabled: bool | None = None
    aws_xray_daemon_address: str | None = None

    @field_validator("xray_exporter", mode="before")
    @classmethod
    def _lower_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("xray_otlp_endpoint")
    @classmethod
    def _xray_url(cls, value: str | None) -> str | None:
        return check_url(value)

    @field_validator("aws_xray_daemon_address")
    @classmethod
    def _daemon_address(cls, value: str | None) -> str | None:
        return check_daemon_address(value)

    @field_validator("xray_sampling_rules")
    @classmethod
    def _rules_file(cls, value: Path | None) -> Path | None:
        return check_rules_file(value)

    def xray_mode_requested(self) -> XRayMode:
        """The mode asked for: `XRAY_EXPORTER`, else the SDK when its own variables turn it on."""
        if self.xray_exporter is not None:
            return (
                "off"
                if self.xray_exporter == "sdk" and self.aws_xray_sdk_enabled is False
                else self.xray_exporter
            )
        if self.aws_xray_sdk_enabled is False:
            return "off"
        return "sdk" if self.aws_xray_sdk_enabled or self.aws_xray_daemon_address is not None else "off"
