"""The groups-and-rules command, checked against botocore's own request and response validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from observability.xray.settings import load_rules
from observability.xray.setup import GROUPS, SERVICES, desired_rules, main


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


def test_empty_account_gets_every_group_and_rule(xray: tuple[Any, Stubber]) -> None:
    """On a fresh account: one group per filter (errors, each service, all) and one rule per local rule."""
    client, stubber = xray
    reads(stubber, [], [DEFAULT])
    for name, expression in GROUPS.items():
        stubber.add_response(
            "create_group",
            {"Group": {"GroupName": name}},
            {"GroupName": name, "FilterExpression": expression},
        )
    wanted = desired_rules(load_rules(None))
    for rule_ in wanted:
        stubber.add_response("create_sampling_rule", {}, {"SamplingRule": rule_})
    assert main([], client=client) == 0
    assert GROUPS["Cruddur-users"] == 'service("users")'


def test_groups_and_rules_are_scoped_to_this_projects_services() -> None:
    """No filter or rule reaches beyond the project's services: errors are theirs, rules name one."""
    assert len(GROUPS) == len(SERVICES) + 2
    for name in SERVICES:
        assert f'service("{name}") {{ fault = true OR error = true }}' in GROUPS["Cruddur-errors"]
    assert GROUPS["Cruddur-errors"].count("service(") == len(SERVICES)
    for expression in GROUPS.values():
        assert expression.count("service(") >= 1
    assert {r["ServiceName"] for r in desired_rules(load_rules(None))} <= set(SERVICES)


def test_a_rule_for_every_service_is_refused() -> None:
    """A local rule without a service name would become an account-wide centralized rule: refused."""
    rules = {"version": 2, "rules": [{"description": "all", "fixed_target": 1, "rate": 0.1}], "default": {}}
    with pytest.raises(ValueError, match="whole account"):
        desired_rules(rules)


def test_the_accounts_default_rule_is_left_alone(xray: tuple[Any, Stubber]) -> None:
    """The Default rule belongs to every service of the account: however it is set, it is not updated."""
    client, stubber = xray
    groups = [{"GroupName": name, "FilterExpression": expression} for name, expression in GROUPS.items()]
    reads(stubber, groups, [rule("Default", 0.5, 7), *desired_rules(load_rules(None))])
    assert main([], client=client) == 0


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
    wanted, *others = desired_rules(load_rules(None))
    reads(stubber, groups, [DEFAULT, {**wanted, "FixedRate": 1.0}, *others])
    name = groups[0]["GroupName"]
    stubber.add_response("update_group", {"Group": {}}, {"GroupName": name, "FilterExpression": GROUPS[name]})
    update = {k: v for k, v in wanted.items() if k != "Version"}
    stubber.add_response("update_sampling_rule", {}, {"SamplingRuleUpdate": update})
    assert main([], client=client) == 0


def test_dry_run_makes_no_call_at_all(xray: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    """`--dry-run` reads nothing and writes nothing (the stubber fails on any call), and prints the plan."""
    client, _ = xray
    assert main(["--dry-run"], client=client) == 0
    out = capsys.readouterr().out
    assert "reads skipped" in out
    for name in [*GROUPS, *(r["RuleName"] for r in desired_rules(load_rules(None)))]:
        assert f" {name} {{" in out


def test_dry_run_needs_no_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no AWS credentials, config or region anywhere, `--dry-run` still prints the whole plan."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["--dry-run"]) == 0
    assert "would create_group Cruddur-errors" in capsys.readouterr().out
