"""The files compose starts from: the collector's config, .env.example, deploy/Dockerfile, the locustfile."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from services.gateway import routes
from tests.collector_config import (
    collector_config,
    env_references,
    exporters_to,
    listen_ports,
    span_copies,
    undefined_components,
    unused_components,
)
from tests.compose import (
    REPO,
    compose,
    env_example,
    exposed,
    raw_compose,
    service_env,
    variables,
)
from tests.dockerfile import dockerfile_instructions, healthcheck_command, image_env
from tests.unit.test_compose import READ_BY_LIBRARIES, SETTINGS, load, settings_names


@pytest.mark.parametrize("key", ["", "hcaik_test"])
def test_collector_pipelines_name_only_components_it_defines(key: str) -> None:
    """With or without a Honeycomb key, every pipeline names defined components and none is left unused;
    Honeycomb gets each OTLP span once, in a pipeline of its own, exactly when the key is set."""
    config, _ = collector_config(compose({"HONEYCOMB_API_KEY": key})["services"]["otel-collector"])
    assert undefined_components(config) == []
    assert unused_components(config) == []
    honeycomb = [e for e in config["exporters"] if e.endswith("/honeycomb")]
    assert len(honeycomb) == (1 if key else 0)
    assert all(span_copies(config, exporter) == 1 for exporter in honeycomb)
    assert config["service"]["pipelines"]["traces"]["exporters"] == exporters_to(config, "jaeger")


def test_undefined_and_unused_components_are_reported() -> None:
    """The pipeline check itself fails for a misspelt exporter name and for a dangling one."""
    config = {
        "receivers": {"otlp": {}},
        "exporters": {"otlp_grpc/jaeger": {}, "debug": {}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp_grpc/jeager"]}}},
    }
    assert undefined_components(config) == ["traces.exporters: otlp_grpc/jeager"]
    assert unused_components(config) == ["exporters: otlp_grpc/jaeger", "exporters: debug"]


def test_collector_listens_where_compose_says_and_gets_every_variable_it_expands() -> None:
    """The collector's receivers listen on exactly the ports compose exposes, its Jaeger exporter targets
    a port Jaeger exposes, and each `${env:NAME}` in its config is in its compose environment."""
    spec = compose({"HONEYCOMB_API_KEY": "hcaik_test"})
    config, files = collector_config(spec["services"]["otel-collector"])
    assert listen_ports(config) == exposed(spec, "otel-collector")
    (jaeger,) = exporters_to(config, "jaeger")
    host, port = config["exporters"][jaeger]["endpoint"].split(":")
    assert (int(port), "tcp") in exposed(spec, host)
    jaeger_command = " ".join(spec["services"][host]["command"])
    assert f"receivers.otlp.protocols.grpc.endpoint=0.0.0.0:{port}" in jaeger_command
    assert env_references(files) <= set(service_env(spec, "otel-collector"))


def test_env_example_lists_every_setting() -> None:
    """.env.example names every variable the services' settings read, and every pending one."""
    values, commented = env_example()
    every = set().union(*(settings_names(cls) for cls in SETTINGS.values())) | READ_BY_LIBRARIES
    assert every - set(values) - commented == set()


# .env.example values that differ from the services' own defaults on purpose: compose's local wiring.
COMPOSE_CHOICES = frozenset(
    {
        "OTEL_BSP_SCHEDULE_DELAY",
        "XRAY_EXPORTER",
        "AWS_XRAY_SDK_ENABLED",
        "AWS_XRAY_DAEMON_ADDRESS",
        "CLOUDWATCH_LOG_GROUP",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "BROWSER_TRACES_ENDPOINT",
    }
)


def test_env_example_values_are_the_services_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each value .env.example sets for a setting is that setting's default, unless compose chooses it."""
    values, _ = env_example()
    differ = []
    for cls in set(SETTINGS.values()):
        default = load(cls, {}, monkeypatch)
        for name in settings_names(cls) & {n for n, v in values.items() if v} - COMPOSE_CHOICES:
            field = name.lower()
            if getattr(load(cls, {name: values[name]}, monkeypatch), field) != getattr(default, field):
                differ.append(f"{cls.__name__}.{name}={values[name]}")
    assert differ == []


def test_env_example_and_compose_agree() -> None:
    """Each variable compose interpolates is in .env.example with compose's own default, and each value
    .env.example sets is used by compose (so `cp .env.example .env` changes nothing and hides nothing)."""
    values, _ = env_example()
    used = variables(raw_compose())
    assert used - set(values) == set()
    assert {name for name in values if not name.startswith("COMPOSE_")} - used == set()
    assert compose(values) == compose({})
    assert "HONEYCOMB_API_KEY" in values and not values["HONEYCOMB_API_KEY"], "no key is ever committed"


def test_dockerfile_is_pinned_slim_non_root_and_without_dev_tools() -> None:
    """The image's base is an exact slim Python release, it runs as a non-root user, installs no dev
    extra, listens on all interfaces, has a healthcheck and starts a service with `python -m`."""
    instructions = dockerfile_instructions()
    bases = [args.split()[0] for _, i, args in instructions if i == "FROM" and ":" in args.split()[0]]
    pinned = re.compile(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?")
    assert bases and all(pinned.fullmatch(base) for base in bases)
    app = [(i, args) for stage, i, args in instructions if stage == "app"]
    assert [args for i, args in app if i == "USER"] == ["10001"]
    assert any(i == "HEALTHCHECK" for i, _ in app)
    assert app[-1] == ("CMD", '["python", "-m", "services.gateway"]')
    runs = " ".join(args for _, i, args in instructions if i == "RUN")
    assert "pip install --no-deps ." in runs and "[dev]" not in runs and "dev.txt" not in runs
    assert image_env()["HOST"] == "0.0.0.0"


def test_dockerignore_lets_in_only_what_the_image_copies() -> None:
    """The build context is deny-all (no .env, .venv, tests or data) plus exactly what the COPYs need."""
    patterns = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert patterns[0] == "*"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = {
        args.split()[0].rstrip("/")
        for _, i, args in dockerfile_instructions()
        if i == "COPY" and not args.startswith("--from")
    }
    assert copied == allowed


def test_healthcheck_fails_when_nothing_answers() -> None:
    """The image's healthcheck exits non-zero when the service's port does not answer."""
    from tests.e2e.harness import base_env, free_port

    command = [sys.executable, *healthcheck_command()[1:]]
    result = subprocess.run(command, env=base_env(PORT=str(free_port())), capture_output=True, timeout=30)
    assert result.returncode != 0


def test_locustfile_hits_only_gateway_routes() -> None:
    """Every path the load generator requests is a route of the gateway, with the right method."""
    tree = ast.parse((REPO / "deploy" / "locustfile.py").read_text())
    calls = [
        (node.func.attr.upper(), node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
        if node.func.attr in ("get", "post")
    ]
    paths = {(method, ast.unparse(arg).strip("f'\"")) for method, arg in calls}
    served = {(m, getattr(r, "path", None)) for r in routes.router.routes for m in getattr(r, "methods", ())}
    assert paths == {
        ("GET", "/api/activities/home"),
        ("GET", "/api/activities/@{handle}"),
        ("POST", "/api/activities"),
    }
    assert paths <= served
