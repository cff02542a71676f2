"""X-Ray is off unless configured, and bad X-Ray configuration stops start-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from observability.settings import TelemetrySettings


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({}, False),
        ({"aws_xray_daemon_address": "127.0.0.1:2000"}, True),
        ({"aws_xray_sdk_enabled": True}, True),
        ({"aws_xray_sdk_enabled": False, "aws_xray_daemon_address": "127.0.0.1:2000"}, False),
        ({"aws_xray_daemon_address": "tcp:127.0.0.1:2000 udp:127.0.0.2:2001"}, True),
    ],
)
def test_xray_is_off_unless_configured(env: dict[str, Any], enabled: bool) -> None:
    """X-Ray is on with a daemon address or AWS_XRAY_SDK_ENABLED=true, and off when that says false."""
    assert TelemetrySettings(**env).xray_enabled is enabled


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1:port", "udp:1.2.3.4:5 udp:1.2.3.4:6"])
def test_bad_daemon_address_stops_start_up(address: str) -> None:
    """A daemon address that is not host:port (or a tcp/udp pair) is a configuration error."""
    with pytest.raises(ValidationError, match="aws_xray_daemon_address"):
        TelemetrySettings(aws_xray_daemon_address=address)


def test_bad_rules_file_stops_start_up(tmp_path: Path) -> None:
    """A sampling rules file that is missing or not a rules document is a configuration error."""
    (tmp_path / "bad.json").write_text(json.dumps({"rules": []}))
    for path in (tmp_path / "missing.json", tmp_path / "bad.json"):
        with pytest.raises(ValidationError, match="xray_sampling_rules"):
            TelemetrySettings(xray_sampling_rules=path)


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, "off"),
        ({"xray_exporter": "otlp", "aws_region": "us-east-1"}, "otlp"),
        ({"xray_exporter": " Collector "}, "collector"),
        ({"aws_xray_daemon_address": "127.0.0.1:2000"}, "sdk"),
        ({"aws_xray_sdk_enabled": True}, "sdk"),
        ({"xray_exporter": "sdk", "aws_xray_sdk_enabled": False}, "off"),
        ({"xray_exporter": "collector", "aws_xray_daemon_address": "127.0.0.1:2000"}, "collector"),
        ({"xray_exporter": "otlp", "aws_region": "us-east-1", "otel_sdk_disabled": True}, "off"),
    ],
)
def test_xray_mode_follows_xray_exporter_then_the_sdk_variables(env: dict[str, Any], mode: str) -> None:
    """XRAY_EXPORTER decides; unset, the SDK's own variables turn the SDK path on; OTel off is X-Ray off."""
    assert TelemetrySettings(**env).xray_mode == mode


def test_in_process_xray_needs_a_region() -> None:
    """XRAY_EXPORTER=otlp without AWS_REGION stops start-up naming AWS_REGION, and a bad mode is refused."""
    with pytest.raises(ValidationError, match="AWS_REGION"):
        TelemetrySettings(xray_exporter="otlp")
    with pytest.raises(ValidationError, match="xray_exporter"):
        TelemetrySettings(xray_exporter="daemon")
