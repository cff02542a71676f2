"""The groups-and-rules command, checked against botocore's own request and response validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from observability.xray.settings import load_rules
from observability.xray.setup import GROUPS, desired_rules, main


def rule(name: str, rate: float, reservoir: int, **extra: Any) -> dict[str, Any]:
    base = {"RuleName": name, "ResourceARN": "*", "Priority": 10000, "FixedRate": rate}
    base.update({"ReservoirSize": reservoir, "ServiceName": "*", "ServiceType": "*", "Host": "*"})
    base.update({"HTTPMethod": "*", "URLPath": "*", "Version": 1, **extra})
    return base


DEFAULT = rule("Default", 0.05, 1)


@pytest.fixture
def xray() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "xray", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def reads(stubber: Stubber, groups: list[dict[str, str]], rules: list[dict[str, Any]]) -> None:
    stubber.add_response("get_groups", {"Groups": groups}, {})
    stubber.add_response(
        "get_sampling_rules", {"SamplingRuleRecords": [{"SamplingRule": r} for r in rules]}, {}
    )


def test_empty_account_gets_every_group_and_the_rule(xray: tuple[Any, Stubber]) -> None:
    """On a fresh account: one group per filter (errors, each service, all) and the 10%/5-per-second rule."""
    client, stubber = xray
    reads(stubber, [], [DEFAULT])
    for name, expression in GROUPS.items():
        stubber.add_response(
            "create_group",
            {"Group": {"GroupName": name}},
            {"GroupName": name, "FilterExpression": expression},
        )
    [wanted] = desired_rules(load_rules(None))
    assert (wanted["FixedRate"], wanted["ReservoirSize"]) == (0.1, 5)
    stubber.add_response("create_sampling_rule", {}, {"SamplingRule": wanted})
    assert main([], client=client) == 0
    assert GROUPS["Cruddur-errors"] == "fault = true OR error = true"
    assert GROUPS["Cruddur-users"] == 'service("users")'


def test_second_run_changes_nothing(xray: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    """Run against an account already set up, the command only reads."""
    client, stubber = xray
    groups = [{"GroupName": name, "FilterExpression": expression} for name, expression in GROUPS.items()]
    reads(stubber, groups, [DEFAULT, *desired_rules(load_rules(None))])
    assert main([], client=client) == 0
    assert "up to date" in capsys.readouterr().out


def test_drifted_rule_and_group_are_updated(xray: tuple[Any, Stubber]) -> None:
    """A rule or group edited by hand is put back with an update, not created twice."""
    client, stubber = xray
    groups = [{"GroupName": name, "FilterExpression": expression} for name, expression in GROUPS.items()]
    groups[0] = {"GroupName": groups[0]["GroupName"], "FilterExpression": "edited"}
    [wanted] = desired_rules(load_rules(None))
    reads(stubber, groups, [rule("Default", 0.5, 1), {**wanted, "FixedRate": 1.0}])
    name = groups[0]["GroupName"]
    stubber.add_response("update_group", {"Group": {}}, {"GroupName": name, "FilterExpression": GROUPS[name]})
    update = {k: v for k, v in wanted.items() if k != "Version"}
    stubber.add_response("update_sampling_rule", {}, {"SamplingRuleUpdate": update})
    default = {"RuleName": "Default", "FixedRate": 0.05, "ReservoirSize": 1}
    stubber.add_response("update_sampling_rule", {}, {"SamplingRuleUpdate": default})
    assert main([], client=client) == 0


def test_dry_run_only_reads(xray: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    """`--dry-run` prints each call it would make and makes none that write."""
    client, stubber = xray
    reads(stubber, [], [DEFAULT])
    assert main(["--dry-run"], client=client) == 0
    out = capsys.readouterr().out
    assert "would create_group Cruddur-errors" in out and "would create_sampling_rule Cruddur" in out
