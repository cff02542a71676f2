"""The rollbar SDK as this project configures it: once per process, never sending by itself, redacting."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
import rollbar
from rollbar.lib import transforms

from observability.reporting import build_reporting
from observability.rollbar import sdk
from observability.rollbar.policy import RedactionPolicy
from observability.settings import TelemetrySettings


def configured() -> None:
    """The SDK configured as a service configures it (a no-op if a test did it already)."""
    build_reporting(
        TelemetrySettings(rollbar_access_token="t", rollbar_endpoint="http://127.0.0.1:1/api/1"), "u"
    )


def test_the_sdk_is_configured_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    """A second configuration changes nothing of the SDK's and warns when it asks for other locals."""
    configured()
    before: dict[str, Any] = dict(rollbar.SETTINGS)
    assert before["allow_logging_basic_config"] is False and before["locals"]["enabled"] is False
    with caplog.at_level(logging.WARNING, logger="cruddur.errors"):
        sdk.init_once(
            "other-token",
            environment="elsewhere",
            code_version="9",
            endpoint="http://127.0.0.1:2/api/1",
            timeout=1,
            capture_locals=True,
        )
    assert dict(rollbar.SETTINGS) == before
    assert "ROLLBAR_CAPTURE_LOCALS is per process" in caplog.text
    assert sys.excepthook is sys.__excepthook__, "the SDK installs no excepthook"


def test_an_item_reported_outside_the_middleware_is_dropped_not_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`rollbar.report_exc_info` called directly builds an item that the payload handler drops."""
    configured()
    with caplog.at_level(logging.WARNING, logger="cruddur.errors"):
        try:
            raise RuntimeError("reported by hand")
        except RuntimeError:
            rollbar.report_exc_info()
    assert "reported outside the error middleware" in caplog.text


def test_the_redaction_policy_covers_names_urls_and_free_text() -> None:
    """Secret-named values, URL credentials and parameters, and tokens in text are all redacted."""
    item = {
        "request": {
            "headers": {"cookie": "a=b", "x-amz-security-token": "tok", "accept": "*/*"},
            "url": "https://user:pw@example.test/p?q=1&api_key=k1&token=k2",
            "GET": {"session_id": "s1", "q": "1"},
        },
        "body": {"trace": {"frames": [{"code": 'login(password="hunter2")', "lineno": 3}]}},
        "custom": {"note": "Authorization: Bearer abc.def.ghi", "count": 2},
    }
    redacted = transforms.transform(item, [RedactionPolicy()])
    request = redacted["request"]
    assert request["headers"] == {
        "cookie": "[REDACTED]",
        "x-amz-security-token": "[REDACTED]",
        "accept": "*/*",
    }
    assert request["url"] == "https://example.test/p?q=1&api_key=[REDACTED]&token=[REDACTED]"
    assert request["GET"] == {"session_id": "[REDACTED]", "q": "1"}
    assert "hunter2" not in redacted["body"]["trace"]["frames"][0]["code"]
    assert redacted["body"]["trace"]["frames"][0]["lineno"] == 3
    assert "abc.def.ghi" not in redacted["custom"]["note"] and redacted["custom"]["count"] == 2
