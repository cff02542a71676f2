"""Reading rendered Kubernetes objects: workloads, their containers, and what each container is given."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, its pod spec) for each Deployment."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            yield obj, obj["spec"]["template"]["spec"]


def containers(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every container (init containers too) of every workload."""
    for _, spec in pod_specs(objects):
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of this kind whose name (hash suffix aside, for ConfigMaps) is `name`."""
    names = (name, f"{name}-")
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(names)]
    found = [o for o in found if kind == "ConfigMap" or o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def container_env(objects: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each variable a container gets, as `{"value": ...}` or `{"valueFrom": ...}` (envFrom expanded)."""
    env: dict[str, dict[str, Any]] = {}
    for source in container.get("envFrom", []):
        [(kind, ref)] = [(k, v) for k, v in source.items() if k in ("configMapRef", "secretRef")]
        if kind == "configMapRef":
            [config_map] = [
                o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == ref["name"]
            ]
            env.update({k: {"value": v} for k, v in config_map.get("data", {}).items()})
    for variable in container.get("env", []):
        env[variable["name"]] = {k: v for k, v in variable.items() if k != "name"}
    return env


def collector_text(objects: list[dict[str, Any]]) -> str:
    """The collector's config file as its pod mounts it (the ConfigMap's config.yaml)."""
    [volume] = [v for _, spec in pod_specs(objects) for v in spec.get("volumes", []) if "configMap" in v]
    text: str = find(objects, "ConfigMap", volume["configMap"]["name"])["data"]["config.yaml"]
    return text


def collector_config(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The collector's config, parsed."""
    config: dict[str, Any] = yaml.safe_load(collector_text(objects))
    return config
