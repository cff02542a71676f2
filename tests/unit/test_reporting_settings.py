"""Error and log reporting settings: off unless configured, bad configuration refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from observability.reporting import build_reporting
from observability.settings import TelemetrySettings


def test_rollbar_and_cloudwatch_are_off_unless_configured() -> None:
    """With no token and no log group, nothing is sent anywhere (unhandled errors are still logged)."""
    reporting = build_reporting(TelemetrySettings(), "users")
    assert reporting.errors.sender is None and reporting.cloudwatch is None


def test_cloudwatch_needs_a_region() -> None:
    """CLOUDWATCH_LOG_GROUP without AWS_REGION stops start-up with a message naming AWS_REGION."""
    with pytest.raises(ValidationError, match="AWS_REGION"):
        TelemetrySettings(cloudwatch_log_group="/cruddur")


def test_the_service_specific_cloudwatch_endpoint_wins() -> None:
    """AWS_ENDPOINT_URL_CLOUDWATCH_LOGS is used before AWS_ENDPOINT_URL, as botocore does."""
    both = TelemetrySettings(
        aws_endpoint_url="http://general:4566", aws_endpoint_url_cloudwatch_logs="http://logs:4566/"
    )
    assert both.cloudwatch_endpoint() == "http://logs:4566"
    assert (
        TelemetrySettings(aws_endpoint_url="http://general:4566").cloudwatch_endpoint()
        == "http://general:4566"
    )


def test_rollbar_environment_defaults_to_the_deployment_environment() -> None:
    """Items are filed under ENVIRONMENT unless ROLLBAR_ENVIRONMENT says otherwise."""
    settings = TelemetrySettings(environment="staging", rollbar_access_token="t")
    assert build_reporting(settings, "gateway").errors.environment == "staging"
    settings = TelemetrySettings(environment="staging", rollbar_environment="qa", rollbar_access_token="t")
    assert build_reporting(settings, "gateway").errors.environment == "qa"
