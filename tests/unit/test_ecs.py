"""deploy/ecs/, checked without an AWS account: every document against botocore's own request models.

botocore validates a call's parameters against the service's API model before it sends anything; the
Stubber answers in place of AWS, so `register_task_definition`, `create_service`, `create_policy` and
`create_role` run here exactly as the AWS CLI would run them from these files, and never leave the process.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from tests.compose import REPO

ECS = REPO / "deploy" / "ecs"
SERVICES = ("users", "activities", "gateway")
RELEASE = re.compile(r"[a-z0-9./-]+:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?")
# Actions AWS grants on no narrower resource than "*", each for its own reason.
NO_RESOURCE_LEVEL = {
    "ecr:GetAuthorizationToken": "the registry login is account-wide",
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
}


def document(*parts: str) -> dict[str, Any]:
    """One of deploy/ecs/'s JSON documents."""
    loaded: dict[str, Any] = json.loads(ECS.joinpath(*parts).read_text())
    return loaded


def task_definition(name: str) -> dict[str, Any]:
    """deploy/ecs/task-definitions/<name>.json: `aws ecs register-task-definition --cli-input-json` input."""
    return document("task-definitions", f"{name}.json")


def policies() -> dict[str, dict[str, Any]]:
    """The IAM policy documents (trust policies aside), by file name."""
    return {
        p.name: json.loads(p.read_text())
        for p in sorted((ECS / "iam").glob("*.json"))
        if "trust" not in p.name
    }


def client(service: str) -> Any:
    """A botocore client with dummy credentials: it validates and signs, and a Stubber answers it."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client(service)


def call(
    service: str, operation: str, params: dict[str, Any], response: dict[str, Any] | None = None
) -> None:
    """Make the call through botocore with a Stubber in front of AWS: ParamValidationError if invalid."""
    api = client(service)
    with Stubber(api) as stubber:
        stubber.add_response(operation, response or {}, params)
        getattr(api, operation)(**params)
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("name", SERVICES)
def test_task_definition_is_a_valid_register_task_definition_request(name: str) -> None:
    """Each task definition is accepted by botocore's model of ECS RegisterTaskDefinition."""
    call("ecs", "register_task_definition", task_definition(name))


def test_a_misspelt_task_definition_field_is_rejected() -> None:
    """The model check fails for a field ECS does not know (its spelling is readonlyRootFilesystem)."""
    broken = copy.deepcopy(task_definition("users"))
    broken["containerDefinitions"][0]["readOnlyRootFilesystem"] = True
    with pytest.raises(ParamValidationError, match="readOnlyRootFilesystem"):
        call("ecs", "register_task_definition", broken)


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_a_valid_create_service_request(name: str) -> None:
    """Each ECS service definition is accepted by botocore's model of ECS CreateService."""
    call("ecs", "create_service", document("services", f"{name}.json"))


@pytest.mark.parametrize("name", sorted(policies()))
def test_policy_is_a_valid_create_policy_request(name: str) -> None:
    """Each policy document is accepted by botocore's model of IAM CreatePolicy."""
    params = {"PolicyName": f"cruddur-{Path(name).stem}", "PolicyDocument": json.dumps(policies()[name])}
    call("iam", "create_policy", params)


def test_trust_policy_is_a_valid_create_role_request() -> None:
    """The ECS tasks' trust policy is accepted by IAM CreateRole and trusts only ECS tasks of this account."""
    trust = document("iam", "trust-ecs-tasks.json")
    role = {
        "Path": "/",
        "RoleName": "cruddur-task",
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "Arn": "arn:aws:iam::1:role/x",
    }
    response = {"Role": {**role, "CreateDate": "2026-01-01T00:00:00Z"}}
    call(
        "iam",
        "create_role",
        {"RoleName": "cruddur-task", "AssumeRolePolicyDocument": json.dumps(trust)},
        response,
    )
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]


@pytest.mark.parametrize("name", sorted(policies()))
def test_policy_grants_real_actions_on_named_resources(name: str) -> None:
    """Least privilege: every action is an operation of botocore's model of its service (no wildcard,
    no typo), every statement allows, and "*" is the resource only where AWS allows nothing narrower."""
    policy = policies()[name]
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert (
            statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        )
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in actions:
            service, _, operation = action.partition(":")
            assert operation in client(service).meta.service_model.operation_names, action
            assert "*" not in resources or action in NO_RESOURCE_LEVEL, f"{action} on *"
        assert all(r == "*" or r.startswith("arn:aws:") for r in resources)


@pytest.mark.parametrize("name", SERVICES)
def test_every_container_is_pinned_non_root_and_read_only(name: str) -> None:
    """Every container image names an exact release, runs as a non-root user with a read-only root
    filesystem, no capability and a health check; the service is essential, its collector sidecar not
    (a collector that dies costs spans, never requests)."""
    app, collector = task_definition(name)["containerDefinitions"]
    for container in (app, collector):
        assert RELEASE.fullmatch(container["image"]), container["image"]
        assert container["user"] not in ("0", "root") and container["readonlyRootFilesystem"] is True
        assert container["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
        assert container["healthCheck"]["command"]
    assert (app["name"], app["essential"]) == (name, True)
    assert (collector["name"], collector["essential"]) == ("otel-collector", False)
    assert task_definition(name)["taskRoleArn"] != task_definition(name)["executionRoleArn"]
