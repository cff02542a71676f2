"""deploy/kubernetes/'s OpenTelemetry Collector: its config whole, listening where it is reached, and
exporting where each overlay says (Jaeger; X-Ray over SigV4 and Honeycomb)."""

from __future__ import annotations

import pytest

from tests.collector_config import ENV_REF, listen_ports, undefined_components, unused_components
from tests.kustomize import KUBERNETES, render
from tests.manifests import collector_config, collector_text, find
from tests.network_policy import admits
from tests.unit.test_kubernetes_wiring import DEPRECATED_EXPORTERS, TARGETS, service_port


@pytest.mark.parametrize("target", TARGETS)
def test_collector_config_is_whole_and_uses_current_names(target: str) -> None:
    """Every pipeline names defined components and none is unused, every `${env:NAME}` is in the
    collector's environment, and no component uses a name 0.148.0 keeps only as a deprecated alias."""
    objects = render(KUBERNETES / target)
    config = collector_config(objects)
    assert undefined_components(config) == [] and unused_components(config) == []
    [container] = find(objects, "Deployment", "otel-collector")["spec"]["template"]["spec"]["containers"]
    expanded = {m["name"] for m in ENV_REF.finditer(collector_text(objects))}
    assert expanded <= {e["name"] for e in container["env"]}
    assert [n for n in config["exporters"] if n.split("/")[0] in DEPRECATED_EXPORTERS] == []


@pytest.mark.parametrize("target", TARGETS)
def test_collector_listens_where_its_service_and_probes_point(target: str) -> None:
    """The collector's receivers listen on exactly its container's OTLP port, and its health_check
    extension on the port its probes ask."""
    objects = render(KUBERNETES / target)
    config = collector_config(objects)
    [container] = find(objects, "Deployment", "otel-collector")["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert listen_ports(config) == {(ports["otlp-http"], "tcp")}
    health = int(config["extensions"]["health_check"]["endpoint"].rsplit(":", 1)[1])
    assert "health_check" in config["service"]["extensions"]
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        assert ports[probe["httpGet"]["port"]] == health


def test_local_collector_exports_to_jaeger_where_it_listens() -> None:
    """The local collector's only exporter targets Jaeger's OTLP/gRPC Service port, the one Jaeger binds."""
    objects = render(KUBERNETES / "overlays/local")
    config = collector_config(objects)
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["otlp_grpc/jaeger"]
    jaeger, port = service_port(objects, "http://" + config["exporters"]["otlp_grpc/jaeger"]["endpoint"])
    [container] = jaeger["spec"]["template"]["spec"]["containers"]
    assert f"--set=receivers.otlp.protocols.grpc.endpoint=0.0.0.0:{port}" in container["args"]
    assert admits(objects, "otel-collector", "jaeger", port)


def test_aws_collector_signs_spans_for_xray_and_keys_them_for_honeycomb() -> None:
    """On EKS the traces go to X-Ray's OTLP endpoint in the pod's region, signed by sigv4auth for the
    `xray` service, and to Honeycomb with the team key from the Secret, both from the one pipeline."""
    objects = render(KUBERNETES / "overlays/aws")
    config = collector_config(objects)
    exporters = config["service"]["pipelines"]["traces"]["exporters"]
    assert exporters == ["otlp_http/xray", "otlp_http/honeycomb"]
    xray = config["exporters"]["otlp_http/xray"]
    assert xray["traces_endpoint"] == "https://xray.${env:AWS_REGION}.amazonaws.com/v1/traces"
    assert xray["auth"]["authenticator"] == "sigv4auth" and "sigv4auth" in config["service"]["extensions"]
    assert config["extensions"]["sigv4auth"]["service"] == "xray"
    honeycomb = config["exporters"]["otlp_http/honeycomb"]
    assert honeycomb["headers"] == {"x-honeycomb-team": "${env:HONEYCOMB_API_KEY}"}
    [container] = find(objects, "Deployment", "otel-collector")["spec"]["template"]["spec"]["containers"]
    [key] = [e for e in container["env"] if e["name"] == "HONEYCOMB_API_KEY"]
    assert key["valueFrom"]["secretKeyRef"]["name"] == "cruddur-secrets"
