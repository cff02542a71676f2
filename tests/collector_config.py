"""The OpenTelemetry Collector's configuration as compose starts it: its `--config` files, merged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from tests.compose import REPO

SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")
ENV_REF = re.compile(r"\$\{env:(?P<name>[A-Za-z_]\w*)(?::-[^}]*)?\}")


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
            return REPO / source
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
    """Each pipeline entry (and service extension) naming a component the config does not define."""
    missing = []
    service = config.get("service", {})
    for name in service.get("extensions", []):
        if name not in (config.get("extensions") or {}):
            missing.append(f"service.extensions: {name}")
    for pipeline, spec in (service.get("pipelines") or {}).items():
        for kind in ("receivers", "processors", "exporters"):
            defined = {**(config.get(kind) or {}), **(config.get("connectors") or {})}
            missing.extend(f"{pipeline}.{kind}: {name}" for name in spec.get(kind, []) if name not in defined)
    return missing


def unused_components(config: Mapping[str, Any]) -> list[str]:
    """Each receiver, processor or exporter the config defines but no pipeline uses."""
    pipelines = (config.get("service", {}).get("pipelines") or {}).values()
    used = {
        name
        for spec in pipelines
        for kind in ("receivers", "processors", "exporters")
        for name in spec.get(kind, [])
    }
    return [
        f"{kind}: {name}" for kind in SECTIONS[:3] for name in (config.get(kind) or {}) if name not in used
    ]


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
