"""The OpenTelemetry Collector's configuration as compose starts it: its `--config` files, merged, and
what the pinned contrib release ships (tests/otelcol_contrib_0.148.0.yaml) to check it against."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from tests.compose import REPO

SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")
ENV_REF = re.compile(r"\$\{env:(?P<name>[A-Za-z_]\w*)(?::-[^}]*)?\}")
CONTRIB_RELEASE = Path(__file__).with_name("otelcol_contrib_0.148.0.yaml")
_HOST = re.compile(r"^(?:[a-z]+://)?(?P<host>[^:/]+)")


def merge(base: Any, overlay: Any) -> Any:
    """The collector's merge of several `--config` files: maps key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return overlay


def host_file(service: Mapping[str, Any], container_path: str) -> Path:
    """The repository file a bind mount of a compose service puts at `container_path`."""
    for volume in service.get("volumes", []):
        source, _, rest = volume.partition(":")
        target = rest.split(":")[0]
        if source.startswith(".") and PurePosixPath(target) == PurePosixPath(container_path):
            return REPO / str(source)
    raise AssertionError(f"nothing is mounted at {container_path}")


def collector_config(service: Mapping[str, Any]) -> tuple[dict[str, Any], list[Path]]:
    """The merged config of the (already interpolated) collector service, and the files it came from."""
    files = [
        host_file(service, arg.removeprefix("--config=").removeprefix("file:"))
        for arg in service["command"]
        if arg.startswith("--config=")
    ]
    assert files, "the collector is started without --config"
    config: dict[str, Any] = {}
    for path in files:
        config = merge(config, yaml.safe_load(path.read_text()))
    return config, files


def undefined_components(config: Mapping[str, Any]) -> list[str]:
    """Each pipeline entry, service extension or authenticator naming a component the config does not
    define (an authenticator must also be an enabled extension)."""
    missing = []
    service = config.get("service", {})
    for name in service.get("extensions", []):
        if name not in (config.get("extensions") or {}):
            missing.append(f"service.extensions: {name}")
    for kind, name, authenticator in _authenticators(config):
        if authenticator not in service.get("extensions", []):
            missing.append(f"{kind}.{name}.auth: {authenticator}")
    for pipeline, spec in (service.get("pipelines") or {}).items():
        for kind in ("receivers", "processors", "exporters"):
            defined = {**(config.get(kind) or {}), **(config.get("connectors") or {})}
            missing.extend(f"{pipeline}.{kind}: {name}" for name in spec.get(kind, []) if name not in defined)
    return missing


def unused_components(config: Mapping[str, Any]) -> list[str]:
    """Each receiver, processor, exporter or connector the config defines but no pipeline uses, and each
    extension it defines but does not enable."""
    pipelines = (config.get("service", {}).get("pipelines") or {}).values()
    used = {
        name
        for spec in pipelines
        for kind in ("receivers", "processors", "exporters")
        for name in spec.get(kind, [])
    }
    used |= set(config.get("service", {}).get("extensions", []))
    return [f"{kind}: {name}" for kind in SECTIONS for name in (config.get(kind) or {}) if name not in used]


def _authenticators(config: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, component, extension) for each `auth: {authenticator: ...}` of a receiver or exporter."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            auth = node.get("auth")
            if isinstance(auth, dict) and isinstance(auth.get("authenticator"), str):
                yield auth["authenticator"]
            for value in node.values():
                yield from walk(value)

    for kind in ("receivers", "exporters"):
        for name, spec in (config.get(kind) or {}).items():
            yield from ((kind, name, extension) for extension in walk(spec))


@dataclass(frozen=True)
class Release:
    """A collector distribution: the component types it builds in, per kind, and the deprecated names."""

    version: str
    types: dict[str, frozenset[str]]
    deprecated: dict[str, dict[str, str]]


def contrib_release(path: Path = CONTRIB_RELEASE) -> Release:
    """The committed component list of the pinned contrib release (see that file's header)."""
    data = yaml.safe_load(path.read_text())
    types = {kind: frozenset(t for t in (data.get(kind) or {}).values() if t) for kind in SECTIONS}
    return Release(str(data["release"]), types, data.get("deprecated") or {})


def component_names(config: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of every component the config defines, puts in a pipeline, enables or authenticates
    with; a pipeline entry that is a defined connector counts as a connector."""
    connectors = set(config.get("connectors") or {})
    names = {(kind, name) for kind in SECTIONS for name in (config.get(kind) or {})}
    service = config.get("service", {})
    names |= {("extensions", name) for name in service.get("extensions", [])}
    names |= {("extensions", extension) for _, _, extension in _authenticators(config)}
    for spec in (service.get("pipelines") or {}).values():
        for kind in ("receivers", "processors", "exporters"):
            names |= {("connectors" if n in connectors else kind, n) for n in spec.get(kind, [])}
    return names


def unknown_components(config: Mapping[str, Any], release: Release) -> list[str]:
    """Each component whose type (the part before `/`) the release does not build in under that name,
    or accepts only as a deprecated alias."""
    problems = []
    for kind, name in sorted(component_names(config)):
        type_ = name.split("/", 1)[0]
        if type_ in release.deprecated.get(kind, {}):
            problems.append(f"{kind}: {name} is deprecated, use {release.deprecated[kind][type_]}")
        elif type_ not in release.types[kind]:
            problems.append(f"{kind}: {name} is not in otelcol-contrib {release.version}")
    return problems


def exporters_to(config: Mapping[str, Any], host: str) -> list[str]:
    """The exporters whose endpoint (or traces_endpoint) is on `host`."""
    found = []
    for name, spec in (config.get("exporters") or {}).items():
        endpoints = [(spec or {}).get(key) for key in ("endpoint", "traces_endpoint")]
        if any(isinstance(e, str) and (m := _HOST.match(e)) and m["host"] == host for e in endpoints):
            found.append(name)
    return found


def span_copies(config: Mapping[str, Any], exporter: str) -> int:
    """How many times each span the services send reaches `exporter`: one per path from a traces
    receiver (every one here takes the services' spans: OTLP, or X-Ray segments with the same ids),
    through connectors, to a traces pipeline that lists the exporter."""
    pipelines = {
        name: spec
        for name, spec in (config.get("service", {}).get("pipelines") or {}).items()
        if name.split("/", 1)[0] == "traces"
    }
    connectors = set(config.get("connectors") or {})

    def copies(pipeline: str, seen: frozenset[str]) -> int:
        assert pipeline not in seen, f"pipelines loop through connectors: {sorted(seen)}"
        total = 0
        for receiver in pipelines[pipeline].get("receivers", []):
            if receiver not in connectors:
                total += 1
                continue
            feeding = [p for p, spec in pipelines.items() if receiver in spec.get("exporters", [])]
            total += sum(copies(p, seen | {pipeline}) for p in feeding)
        return total

    return sum(
        copies(name, frozenset()) * spec.get("exporters", []).count(exporter)
        for name, spec in pipelines.items()
    )


def env_references(files: list[Path]) -> set[str]:
    """Names of the `${env:NAME}` the collector expands in these files."""
    return {m["name"] for path in files for m in ENV_REF.finditer(path.read_text())}


def listen_ports(config: Mapping[str, Any]) -> set[tuple[int, str]]:
    """(port, protocol) every receiver listens on, read from its `endpoint` settings."""
    ports: set[tuple[int, str]] = set()

    def walk(node: Any, protocol: str) -> None:
        if isinstance(node, dict):
            protocol = "udp" if node.get("transport") == "udp" else protocol
            for key, value in node.items():
                if key == "endpoint" and isinstance(value, str):
                    ports.add((int(value.rsplit(":", 1)[1]), protocol))
                else:
                    walk(value, "tcp")

    for receiver in (config.get("receivers") or {}).values():
        walk(receiver, "tcp")
    return ports
