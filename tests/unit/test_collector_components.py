"""The collector's files, in every overlay combination compose can start, against the pinned release.

Each combination of HONEYCOMB_API_KEY and XRAY_COLLECTOR_EXPORTER is merged the way the collector merges its
`--config` files, then checked: only current component names of otelcol-contrib 0.148.0
(tests/otelcol_contrib_0.148.0.yaml), each span of the services reaching Jaeger exactly once, and X-Ray
fed with those same OTel spans (never the SDK's segment copies) when XRAY_COLLECTOR_EXPORTER asks for it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import yaml

from tests.collector_config import (
    CONTRIB_RELEASE,
    collector_config,
    contrib_release,
    env_references,
    exporters_to,
    span_copies,
    undefined_components,
    unknown_components,
    unused_components,
)
from tests.compose import compose, service_env

HONEYCOMB = ["", "hcaik_test"]
XRAY = ["", "off", "otlp", "awsxray"]
COMBINATIONS = [{"HONEYCOMB_API_KEY": h, "XRAY_COLLECTOR_EXPORTER": x} for h in HONEYCOMB for x in XRAY]
XRAY_OTLP_ENDPOINT = "https://xray.${env:AWS_REGION}.amazonaws.com/v1/traces"
ENV = re.compile(r"\$\{env:(\w+)\}")


def started(env: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The merged collector config compose starts with `env`, and the collector's environment."""
    spec = compose(env)
    config, files = collector_config(spec["services"]["otel-collector"])
    environment = service_env(spec, "otel-collector")
    assert env_references(files) <= set(environment), "the collector expands a variable it is not given"
    return config, environment


def expand(value: str, environment: dict[str, str]) -> str:
    """A config value with the collector's `${env:NAME}` expanded from its compose environment."""
    return ENV.sub(lambda m: environment[m[1]], value)


def of_type(config: dict[str, Any], kind: str, type_: str) -> list[str]:
    """Names of the components of one type (`otlp_http/xray` is of type `otlp_http`)."""
    return [name for name in config.get(kind) or {} if name.split("/", 1)[0] == type_]


def feeding(config: dict[str, Any], exporter: str) -> list[dict[str, Any]]:
    """The pipelines that list an exporter."""
    return [s for s in config["service"]["pipelines"].values() if exporter in s.get("exporters", [])]


@pytest.mark.parametrize(
    "env",
    COMBINATIONS,
    ids=lambda e: f"honeycomb={bool(e['HONEYCOMB_API_KEY'])}-xray={e['XRAY_COLLECTOR_EXPORTER'] or 'unset'}",
)
def test_every_combination_names_only_current_components_of_the_pinned_release(env: dict[str, str]) -> None:
    """As compose starts it, the collector names only components otelcol-contrib 0.148.0 builds in, by
    their current names, all defined and used, and each span of the services reaches Jaeger once."""
    config, _ = started(env)
    assert unknown_components(config, contrib_release()) == []
    assert undefined_components(config) == [] and unused_components(config) == []
    jaeger = exporters_to(config, "jaeger")
    assert len(jaeger) == 1 and span_copies(config, jaeger[0]) == 1


def test_the_component_list_is_the_pinned_image_release() -> None:
    """The committed list is for the release compose pins, so bumping the image means refreshing it; no
    kind maps two modules to one type."""
    image = compose()["services"]["otel-collector"]["image"]
    release = contrib_release()
    assert image == f"otel/opentelemetry-collector-contrib:{release.version}"
    data = yaml.safe_load(CONTRIB_RELEASE.read_text())
    for kind in ("receivers", "processors", "exporters", "extensions", "connectors"):
        repeated = [t for t, n in Counter(t for t in data[kind].values() if t).items() if n > 1]
        assert repeated == [], kind


@pytest.mark.parametrize("honeycomb", HONEYCOMB)
def test_xray_collector_signs_the_otel_spans_for_the_xray_otlp_endpoint(honeycomb: str) -> None:
    """XRAY_COLLECTOR_EXPORTER=otlp sends each OTLP span once more, to the region's X-Ray OTLP endpoint with
    `otlp_http`, signed by a sigv4auth extension for service `xray` in the collector's AWS_REGION, which
    gets the region and credentials compose passes on."""
    env = {"HONEYCOMB_API_KEY": honeycomb, "XRAY_COLLECTOR_EXPORTER": "otlp", "AWS_REGION": "eu-west-1"}
    env |= {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}
    config, environment = started(env)
    xray = [e for e in of_type(config, "exporters", "otlp_http") if "xray" in str(config["exporters"][e])]
    assert len(xray) == 1
    exporter = config["exporters"][xray[0]]
    assert exporter["traces_endpoint"] == XRAY_OTLP_ENDPOINT
    assert (
        expand(exporter["traces_endpoint"], environment) == "https://xray.eu-west-1.amazonaws.com/v1/traces"
    )
    authenticator = exporter["auth"]["authenticator"]
    assert authenticator.split("/", 1)[0] == "sigv4auth"
    signing = config["extensions"][authenticator]
    assert signing["service"] == "xray" and expand(signing["region"], environment) == "eu-west-1"
    assert environment["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert environment["AWS_SECRET_ACCESS_KEY"] == "not-a-real-secret"
    assert [p["receivers"] for p in feeding(config, xray[0])] == [["otlp"]]
    assert span_copies(config, xray[0]) == 1


def test_xray_collector_awsxray_sends_the_same_spans_through_the_segments_api() -> None:
    """XRAY_COLLECTOR_EXPORTER=awsxray sends each OTLP span once to X-Ray through the awsxray exporter
    in the collector's region, and nothing to the OTLP endpoint."""
    config, environment = started({"XRAY_COLLECTOR_EXPORTER": "awsxray", "AWS_REGION": "ap-south-1"})
    (exporter,) = of_type(config, "exporters", "awsxray")
    assert expand(config["exporters"][exporter]["region"], environment) == "ap-south-1"
    assert [p["receivers"] for p in feeding(config, exporter)] == [["otlp"]]
    assert span_copies(config, exporter) == 1
    assert XRAY_OTLP_ENDPOINT not in str(config) and of_type(config, "extensions", "sigv4auth") == []


@pytest.mark.parametrize("xray", ["", "off"])
@pytest.mark.parametrize("honeycomb", HONEYCOMB)
def test_without_xray_exporter_nothing_goes_to_aws(honeycomb: str, xray: str) -> None:
    """With XRAY_COLLECTOR_EXPORTER unset or off, the collector has no X-Ray exporter and no SigV4 signing."""
    config, _ = started({"HONEYCOMB_API_KEY": honeycomb, "XRAY_COLLECTOR_EXPORTER": xray})
    assert of_type(config, "exporters", "awsxray") == []
    assert "amazonaws.com" not in str(config.get("exporters"))
    assert of_type(config, "extensions", "sigv4auth") == []


@pytest.mark.parametrize("env", COMBINATIONS[::3])
def test_sdk_segments_are_taken_and_reach_no_backend(env: dict[str, str]) -> None:
    """The SDK opt-in's segments still have the collector's UDP port (and its sampling proxy), but every
    pipeline holding them ends in `nop`: their spans are the OTel spans, already sent everywhere."""
    config, _ = started(env)
    pipelines = [s for s in config["service"]["pipelines"].values() if "awsxray" in s["receivers"]]
    assert pipelines and config["receivers"]["awsxray"]["proxy_server"]["endpoint"].endswith(":2000")
    assert {e.split("/", 1)[0] for p in pipelines for e in p["exporters"]} == {"nop"}


def test_deprecated_and_unknown_component_names_are_reported() -> None:
    """The name check fails for a deprecated alias, a name the release does not have yet, and a typo."""
    config: dict[str, Any] = {
        "receivers": {"otlp": {}, "aws_xray": {}},
        "exporters": {"otlphttp/x": {}, "otlp/jaeger": {}, "otlp_grpc/ok": {}},
        "extensions": {"sigv4_auth": {}},
        "processors": {"batchh": {}},
    }
    assert unknown_components(config, contrib_release()) == [
        "exporters: otlp/jaeger is deprecated, use otlp_grpc",
        "exporters: otlphttp/x is deprecated, use otlp_http",
        "extensions: sigv4_auth is not in otelcol-contrib 0.148.0",
        "processors: batchh is not in otelcol-contrib 0.148.0",
        "receivers: aws_xray is not in otelcol-contrib 0.148.0",
    ]


def test_a_span_reaching_jaeger_twice_is_counted() -> None:
    """The copy count sees two pipelines ending in Jaeger, two receivers in one, and a connector path."""
    exporters: dict[str, Any] = {"otlp_grpc/jaeger": {"endpoint": "jaeger:4317"}, "nop": {}}
    two_pipelines = {
        "receivers": {"otlp": {}, "awsxray": {}},
        "exporters": exporters,
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "exporters": ["otlp_grpc/jaeger"]},
                "traces/xray": {"receivers": ["awsxray"], "exporters": ["otlp_grpc/jaeger"]},
            }
        },
    }
    both = {"receivers": ["otlp", "awsxray"], "exporters": ["otlp_grpc/jaeger"]}
    one_pipeline = {**two_pipelines, "service": {"pipelines": {"traces": both}}}
    via_connector = {
        "receivers": {"otlp": {}},
        "connectors": {"forward": {}},
        "exporters": exporters,
        "service": {
            "pipelines": {
                "traces/in": {"receivers": ["otlp"], "exporters": ["forward", "otlp_grpc/jaeger"]},
                "traces/out": {"receivers": ["forward"], "exporters": ["otlp_grpc/jaeger"]},
            }
        },
    }
    for config in (two_pipelines, one_pipeline, via_connector):
        assert exporters_to(config, "jaeger") == ["otlp_grpc/jaeger"]
        assert span_copies(config, "otlp_grpc/jaeger") == 2


def test_an_authenticator_must_be_an_enabled_extension() -> None:
    """An exporter's `auth.authenticator` naming an extension that is not enabled is reported, and an
    extension defined but not enabled is unused."""
    config: dict[str, Any] = {
        "receivers": {"otlp": {}},
        "extensions": {"sigv4auth/xray": {"service": "xray"}},
        "exporters": {"otlp_http/xray": {"auth": {"authenticator": "sigv4auth/xray"}}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp_http/xray"]}}},
    }
    assert undefined_components(config) == ["exporters.otlp_http/xray.auth: sigv4auth/xray"]
    assert unused_components(config) == ["extensions: sigv4auth/xray"]
