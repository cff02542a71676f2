"""deploy/kubernetes/'s wiring: each service's environment is its settings, every address a Service port.

The same checks tests/unit/test_compose*.py make of docker-compose.yml, on the rendered overlays.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.collector_config import listen_ports
from tests.dockerfile import image_env
from tests.kustomize import KUBERNETES, OVERLAYS, render
from tests.manifests import collector_config, container_env, find
from tests.network_policy import admits
from tests.unit.test_compose import READ_BY_LIBRARIES, SETTINGS, load, settings_names

TARGETS = ("base", *(f"overlays/{name}" for name in OVERLAYS))
APP_SERVICES = ("users", "activities", "gateway")
# Stand-ins for what the Secrets hold, so the settings can be loaded as a pod would.
SECRET_SAMPLES = {
    "AUTH_SECRET": "s" * 32,
    "ROLLBAR_ACCESS_TOKEN": "r" * 32,
    "DATABASE_URL": "postgresql://cruddur:password@db.internal:5432/cruddur",
}
# Exporter names the pinned collector (0.148.0) accepts only as deprecated aliases (of otlp_grpc and
# otlp_http, renamed in 0.144.0); the `otlp` receiver keeps its name.
DEPRECATED_EXPORTERS = ("otlp", "otlphttp")


def pod_env(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    """The environment the pod gives the service's container (Secrets as samples), the image's aside."""
    [container] = find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"]
    env = {}
    for variable, source in container_env(objects, container).items():
        if "value" in source:
            env[variable] = source["value"]
        elif "configMapKeyRef" in source["valueFrom"]:
            reference = source["valueFrom"]["configMapKeyRef"]
            env[variable] = find(objects, "ConfigMap", reference["name"])["data"][reference["key"]]
        else:
            env[variable] = SECRET_SAMPLES[variable]
    return env


def service_port(objects: list[dict[str, Any]], url: str) -> tuple[dict[str, Any], int]:
    """The Deployment a `http://service:port` address reaches, and the container port it lands on."""
    parts = urlsplit(url)
    service = find(objects, "Service", str(parts.hostname))
    [port] = [p for p in service["spec"]["ports"] if p["port"] == parts.port]
    workload = find(objects, "Deployment", str(parts.hostname))
    assert service["spec"]["selector"].items() <= workload["spec"]["template"]["metadata"]["labels"].items()
    [container] = [c for c in workload["spec"]["template"]["spec"]["containers"]]
    [target] = [p for p in container["ports"] if p["name"] == port["targetPort"]]
    return workload, target["containerPort"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_is_read_by_the_service(target: str, name: str) -> None:
    """Each variable a pod gets is a field of that service's settings class (or a library's own)."""
    env = pod_env(render(KUBERNETES / target), name)
    assert set(env) - settings_names(SETTINGS[name]) - READ_BY_LIBRARIES == set()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_service_loads_its_pod_environment(
    target: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pod's environment builds the service's settings: listening on all interfaces on the port its
    Service targets, exporting to the collector's OTLP port, each downstream URL a Service port."""
    objects = render(KUBERNETES / target)
    settings = load(SETTINGS[name], {**image_env(), **pod_env(objects, name)}, monkeypatch)
    assert settings.host == "0.0.0.0"
    assert service_port(objects, f"http://{name}:{settings.port}")[1] == settings.port
    assert settings.otel_service_name == name
    collector, port = service_port(objects, str(settings.otlp_traces_endpoint()))
    assert collector["metadata"]["name"] == "otel-collector"
    assert (port, "tcp") in listen_ports(collector_config(objects))
    assert admits(objects, name, "otel-collector", port)
    if settings.aws_endpoint_url is not None:  # the local overlay's moto
        workload, port = service_port(objects, settings.aws_endpoint_url)
        assert admits(objects, name, workload["metadata"]["name"], port)
    for downstream in ("users", "activities"):
        url = getattr(settings, f"{downstream}_url", None)
        if url is not None:
            workload, port = service_port(objects, url)
            assert workload["metadata"]["name"] == downstream
            assert port == int(pod_env(objects, downstream)["PORT"])
            assert admits(objects, name, downstream, port)


@pytest.mark.parametrize("target", TARGETS)
def test_network_policies_deny_what_no_address_needs(target: str) -> None:
    """Ingress is denied by default: users take no call from the collector, activities none from users,
    and the collector none from anything but the services (the policies are not allow-all)."""
    objects = render(KUBERNETES / target)
    assert not admits(objects, "otel-collector", "users", 8002)
    assert not admits(objects, "users", "activities", 8001)
    assert not admits(objects, "gateway", "users", 8001)
    assert admits(objects, "gateway", "users", 8002)
