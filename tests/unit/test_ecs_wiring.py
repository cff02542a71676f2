"""deploy/ecs/'s wiring: each task's environment is its service's settings, each address a Service Connect
name, the sidecar's config whole, and the IAM policies cover exactly what the tasks name."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.collector_config import ENV_REF, listen_ports, undefined_components, unused_components
from tests.dockerfile import healthcheck_command, image_env
from tests.unit.test_compose import READ_BY_LIBRARIES, SETTINGS, load, settings_names
from tests.unit.test_ecs import ECS, SERVICES, document, policies, task_definition
from tests.unit.test_kubernetes_wiring import SECRET_SAMPLES

COLLECTOR_CONFIG = ECS / "otel-collector.yaml"
AWS_OVERLAY_CONFIG = ECS.parent / "kubernetes" / "overlays" / "aws" / "collector-config.yaml"


def task_env(name: str) -> dict[str, str]:
    """The environment ECS gives the service's container (Secrets as samples), the image's aside."""
    app = task_definition(name)["containerDefinitions"][0]
    env = {item["name"]: item["value"] for item in app["environment"]}
    return env | {item["name"]: SECRET_SAMPLES[item["name"]] for item in app["secrets"]}


def service_connect(name: str) -> tuple[str, int, str]:
    """(DNS name, port, port name) the ECS service `name` publishes through Service Connect."""
    [published] = document("services", f"{name}.json")["serviceConnectConfiguration"]["services"]
    [alias] = published["clientAliases"]
    return alias["dnsName"], alias["port"], published["portName"]


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether a policy's Allow statements grant `action` on `resource` (IAM's `*` and `?` wildcards)."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if action in actions and any(fnmatchcase(resource, pattern) for pattern in resources):
            return True
    return False


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_is_read_by_the_service(name: str) -> None:
    """Each variable a task gives its service is a field of that service's settings class."""
    assert set(task_env(name)) - settings_names(SETTINGS[name]) - READ_BY_LIBRARIES == set()


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_loads_its_task_environment(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The task's environment builds the service's settings: on all interfaces on its mapped port, in
    production, exporting to the sidecar's OTLP port, each downstream URL a Service Connect alias."""
    settings = load(SETTINGS[name], {**image_env(), **task_env(name)}, monkeypatch)
    definition = task_definition(name)
    app = definition["containerDefinitions"][0]
    [mapping] = app["portMappings"]
    assert settings.host == "0.0.0.0" and settings.port == mapping["containerPort"] and settings.is_production
    endpoint = urlsplit(str(settings.otlp_traces_endpoint()))
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    assert endpoint.hostname == "127.0.0.1" and (endpoint.port, "tcp") in listen_ports(config)
    dns_name, port, port_name = service_connect(name)
    assert (dns_name, port, port_name) == (name, mapping["containerPort"], mapping["name"])
    for downstream in ("users", "activities"):
        url = getattr(settings, f"{downstream}_url", None)
        if url is not None:
            assert (urlsplit(url).hostname, urlsplit(url).port) == service_connect(downstream)[:2]
    assert app["healthCheck"]["command"] == ["CMD", *healthcheck_command()]


def test_the_sidecar_config_is_whole_and_sends_where_the_aws_overlay_does() -> None:
    """The ADOT sidecar's config names only components it defines, listens on the task's loopback only,
    gets every variable it expands, and exports to the same destinations as the EKS collector."""
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    assert undefined_components(config) == [] and unused_components(config) == []
    assert {host for host, _ in (e.rsplit(":", 1) for e in _endpoints(config))} == {"127.0.0.1"}
    eks = yaml.safe_load(AWS_OVERLAY_CONFIG.read_text())
    assert config["exporters"] == eks["exporters"]
    assert config["extensions"]["sigv4auth"] == eks["extensions"]["sigv4auth"]
    for name in SERVICES:
        collector = task_definition(name)["containerDefinitions"][1]
        given = {e["name"] for e in collector["environment"]} | {s["name"] for s in collector["secrets"]}
        assert {m["name"] for m in ENV_REF.finditer(COLLECTOR_CONFIG.read_text())} <= given
        [source] = [s["valueFrom"] for s in collector["secrets"] if s["name"] == "AOT_CONFIG_CONTENT"]
        assert source.endswith(":parameter/cruddur/otel-collector-config")


def _endpoints(config: dict[str, Any]) -> list[str]:
    receivers = [p["endpoint"] for r in config["receivers"].values() for p in r["protocols"].values()]
    return [*receivers, config["extensions"]["health_check"]["endpoint"]]


@pytest.mark.parametrize("name", SERVICES)
def test_execution_role_can_start_the_task_and_nothing_more(name: str) -> None:
    """The execution role may pull the task's image from its ECR repository, read each Secret and
    parameter the task names, and write its awslogs group; and it may read no other parameter."""
    policy = policies()["task-execution-role.json"]
    for container in task_definition(name)["containerDefinitions"]:
        for secret in container["secrets"]:
            action = (
                "ssm:GetParameters" if ":ssm:" in secret["valueFrom"] else "secretsmanager:GetSecretValue"
            )
            assert allowed(
                policy, action, secret["valueFrom"] + "-AbCdEf" * (":secret:" in secret["valueFrom"])
            )
        options = container["logConfiguration"]["options"]
        stream = f"arn:aws:logs:{options['awslogs-region']}:111122223333:log-group:{options['awslogs-group']}"
        assert allowed(
            policy, "logs:PutLogEvents", f"{stream}:log-stream:{options['awslogs-stream-prefix']}/x"
        )
    registry, _, repository = task_definition(name)["containerDefinitions"][0]["image"].partition("/")
    account, region = registry.split(".")[0], registry.split(".")[3]
    arn = f"arn:aws:ecr:{region}:{account}:repository/{repository.split(':')[0]}"
    assert allowed(policy, "ecr:BatchGetImage", arn)
    assert not allowed(policy, "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/other")


@pytest.mark.parametrize("name", SERVICES)
def test_task_role_covers_the_log_group_and_xray_and_nothing_else(name: str) -> None:
    """The task role (service and sidecar share it) may create and write the streams of the group the
    service logs to, and send spans to X-Ray; not another group."""
    env = task_env(name)
    group = f"arn:aws:logs:{env['AWS_REGION']}:111122223333:log-group:{env['CLOUDWATCH_LOG_GROUP']}"
    logs, xray = policies()["task-role-cloudwatch-logs.json"], policies()["collector-xray.json"]
    assert allowed(logs, "logs:CreateLogGroup", group)
    assert allowed(logs, "logs:PutLogEvents", f"{group}:log-stream:{name}/ip-10-0-0-1")
    assert not allowed(logs, "logs:PutLogEvents", f"{group}-other:log-stream:x")
    assert allowed(xray, "xray:PutTraceSegments", "*")
