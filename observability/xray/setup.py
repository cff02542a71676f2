"""Create the X-Ray groups and sampling rules this project uses, idempotently: `--dry-run` only plans.

    python -m observability.xray.setup [--dry-run] [--rules observability/xray/sampling_rules.json]

Everything is scoped to this project's services (`SERVICES`): each group filters on their names, the
errors group on faults and errors of their own segments, and each sampling rule names its service
(a rule for `*` would sample every service of the account, so it is refused). The sampling rules come
from the same local rules file the services sample with when centralized sampling is off (each rule
becomes a centralized rule named after its `description`), so local and centralized sampling agree;
the account's `Default` rule belongs to every service of the account and is left alone.
`--dry-run` needs no account, credentials or network: it skips the reads and prints every call a
fresh account would get. Reads `AWS_REGION` and `AWS_ENDPOINT_URL` (boto3's usual chain for
credentials).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.xray.settings import load_rules

SERVICES = ("gateway", "activities", "users")  # the services' OTEL_SERVICE_NAME, as X-Ray names them
GROUPS = {
    "Cruddur": " OR ".join(f'service("{name}")' for name in SERVICES),
    # A fault or error in a segment of one of these services, not anywhere in the account.
    "Cruddur-errors": " OR ".join(
        f'service("{name}") {{ fault = true OR error = true }}' for name in SERVICES
    ),
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

    def describe(self, *, detail: bool = False) -> str:
        name = self.params.get("GroupName") or _rule(self.params).get("RuleName")
        return f"{self.operation} {name}" + (f" {json.dumps(self.params, sort_keys=True)}" if detail else "")


def _rule(params: dict[str, Any]) -> dict[str, Any]:
    rule = params.get("SamplingRule") or params.get("SamplingRuleUpdate") or {}
    assert isinstance(rule, dict)
    return rule


def desired_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Centralized sampling rules from a local rules document (version 2), each scoped to a service."""
    wanted = []
    for index, rule in enumerate(rules.get("rules", [])):
        service = str(rule.get("service_name", "*"))
        if service.strip("*?") == "":
            raise ValueError(
                f"rule {rule['description']!r} names no service: it would sample the whole account"
            )
        wanted.append(
            {
                "RuleName": str(rule["description"])[:32],
                "ResourceARN": "*",
                "Priority": PRIORITY + index,
                "FixedRate": float(rule["rate"]),
                "ReservoirSize": int(rule["fixed_target"]),
                "ServiceName": service,
                "ServiceType": "*",
                "Host": rule.get("host", "*"),
                "HTTPMethod": rule.get("http_method", "*"),
                "URLPath": rule.get("url_path", "*"),
                "Version": 1,
            }
        )
    return wanted


def read_account(client: Any) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The account's groups (name: filter) and sampling rules (name: rule)."""
    groups: dict[str, str] = {}
    for page in client.get_paginator("get_groups").paginate():
        groups.update({g["GroupName"]: g.get("FilterExpression", "") for g in page.get("Groups", [])})
    existing: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_sampling_rules").paginate():
        for record in page.get("SamplingRuleRecords", []):
            existing[record["SamplingRule"]["RuleName"]] = record["SamplingRule"]
    return groups, existing


def plan(groups: dict[str, str], existing: dict[str, dict[str, Any]], rules: dict[str, Any]) -> list[Change]:
    """The calls that bring an account holding `groups` and `existing` rules to the wanted ones."""
    changes = []
    for name, expression in GROUPS.items():
        if name not in groups:
            changes.append(Change("create_group", {"GroupName": name, "FilterExpression": expression}))
        elif groups[name] != expression:
            changes.append(Change("update_group", {"GroupName": name, "FilterExpression": expression}))
    for rule in desired_rules(rules):
        current = existing.get(rule["RuleName"])
        if current is None:
            changes.append(Change("create_sampling_rule", {"SamplingRule": rule}))
        elif any(current.get(k) != v for k, v in rule.items() if k not in ("Version", "ResourceARN")):
            update = {k: v for k, v in rule.items() if k != "Version"}
            changes.append(Change("update_sampling_rule", {"SamplingRuleUpdate": update}))
    return changes


def apply(client: Any, changes: list[Change]) -> None:
    """Make the planned calls, in order."""
    for change in changes:
        getattr(client, change.operation)(**change.params)


def main(argv: list[str] | None = None, client: Any = None) -> int:
    """Plan, print, and (unless `--dry-run`) apply; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m observability.xray.setup", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the plan; no account, no network")
    parser.add_argument("--rules", type=Path, default=None, help="local sampling rules file (version 2)")
    args = parser.parse_args(argv)
    rules = load_rules(args.rules)
    if args.dry_run:
        print("dry run: reads skipped (no AWS account, credentials or network needed); the plan is what an")
        print("account without these groups and rules gets, a real run makes only the calls still needed")
        for change in plan({}, {}, rules):
            print("would " + change.describe(detail=True))
        return 0
    if client is None:
        import boto3

        settings = SetupSettings()
        client = boto3.client("xray", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    changes = plan(*read_account(client), rules)
    for change in changes:
        print(change.describe())
    if not changes:
        print("X-Ray groups and sampling rules are up to date")
    apply(client, changes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
