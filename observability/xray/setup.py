"""Create the X-Ray groups and sampling rules this project uses, idempotently: `--dry-run` only plans.

    python -m observability.xray.setup [--dry-run] [--rules observability/xray/sampling_rules.json]

The sampling rules come from the same local rules file the services sample with when centralized
sampling is off (each rule becomes a centralized rule named after its `description`; `default`
updates the account's `Default` rule), so local and centralized sampling agree. Reads `AWS_REGION`
and `AWS_ENDPOINT_URL` (through boto3's usual chain for credentials).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.xray.settings import load_rules

SERVICES = ("gateway", "activities", "users")
GROUPS = {
    "Cruddur": " OR ".join(f'service("{name}")' for name in SERVICES),
    "Cruddur-errors": "fault = true OR error = true",
    **{f"Cruddur-{name}": f'service("{name}")' for name in SERVICES},
}
PRIORITY = 9000  # below any hand-made rule of the account


class SetupSettings(BaseSettings):
    """Where the X-Ray API is: the region, and an endpoint override for tests."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None


@dataclass(frozen=True)
class Change:
    """One call the command makes (or would make with `--dry-run`)."""

    operation: str
    params: dict[str, Any]

    def describe(self) -> str:
        name = self.params.get("GroupName") or _rule(self.params).get("RuleName")
        return f"{self.operation} {name}"


def _rule(params: dict[str, Any]) -> dict[str, Any]:
    rule = params.get("SamplingRule") or params.get("SamplingRuleUpdate") or {}
    assert isinstance(rule, dict)
    return rule


def desired_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Centralized sampling rules from a local rules document (version 2)."""
    wanted = []
    for index, rule in enumerate(rules.get("rules", [])):
        wanted.append(
            {
                "RuleName": str(rule["description"])[:32],
                "ResourceARN": "*",
                "Priority": PRIORITY + index,
                "FixedRate": float(rule["rate"]),
                "ReservoirSize": int(rule["fixed_target"]),
                "ServiceName": rule.get("service_name", "*"),
                "ServiceType": "*",
                "Host": rule.get("host", "*"),
                "HTTPMethod": rule.get("http_method", "*"),
                "URLPath": rule.get("url_path", "*"),
                "Version": 1,
            }
        )
    return wanted


def plan(client: Any, rules: dict[str, Any]) -> list[Change]:
    """The calls that bring the account to the wanted groups and rules; empty when it is there."""
    groups: dict[str, str] = {}
    for page in client.get_paginator("get_groups").paginate():
        groups.update({g["GroupName"]: g.get("FilterExpression", "") for g in page.get("Groups", [])})
    existing: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_sampling_rules").paginate():
        for record in page.get("SamplingRuleRecords", []):
            existing[record["SamplingRule"]["RuleName"]] = record["SamplingRule"]
    changes = []
    for name, expression in GROUPS.items():
        if name not in groups:
            changes.append(Change("create_group", {"GroupName": name, "FilterExpression": expression}))
        elif groups[name] != expression:
            changes.append(Change("update_group", {"GroupName": name, "FilterExpression": expression}))
    default = rules["default"]
    wanted = [*desired_rules(rules)]
    default_rule = {"RuleName": "Default", "FixedRate": float(default["rate"])}
    default_rule["ReservoirSize"] = int(default["fixed_target"])
    for rule in wanted:
        current = existing.get(rule["RuleName"])
        if current is None:
            changes.append(Change("create_sampling_rule", {"SamplingRule": rule}))
        elif any(current.get(k) != v for k, v in rule.items() if k not in ("Version", "ResourceARN")):
            update = {k: v for k, v in rule.items() if k != "Version"}
            changes.append(Change("update_sampling_rule", {"SamplingRuleUpdate": update}))
    current_default = existing.get("Default", {})
    if any(current_default.get(k) != v for k, v in default_rule.items()):
        changes.append(Change("update_sampling_rule", {"SamplingRuleUpdate": default_rule}))
    return changes


def apply(client: Any, changes: list[Change]) -> None:
    """Make the planned calls, in order."""
    for change in changes:
        getattr(client, change.operation)(**change.params)


def main(argv: list[str] | None = None, client: Any = None) -> int:
    """Plan, print, and (unless `--dry-run`) apply; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m observability.xray.setup", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the calls, make none that write")
    parser.add_argument("--rules", type=Path, default=None, help="local sampling rules file (version 2)")
    args = parser.parse_args(argv)
    if client is None:
        import boto3

        settings = SetupSettings()
        client = boto3.client("xray", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    changes = plan(client, load_rules(args.rules))
    for change in changes:
        print(("would " if args.dry_run else "") + change.describe())
    if not changes:
        print("X-Ray groups and sampling rules are up to date")
    if not args.dry_run:
        apply(client, changes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
