"""Rendering deploy/kubernetes/ overlays as `kubectl kustomize` does, in Python, with no cluster or binary.

No registry this project reaches ships the kustomize binary (Debian's kubectl is 1.20, whose kustomize
predates `patches` and `labels`), so the tests render the subset of kustomize the manifests use:
`resources` (files and directories), `namespace`, `labels` (metadata only), `configMapGenerator`
(`envs`, `files`, `literals`; behaviours create, merge and replace; the content-hash name suffix and
the references to it), `images` (newName, newTag) and strategic-merge `patches` by path.
tests/unit/test_kubernetes.py compares this with a real kustomize wherever one is installed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from tests.compose import REPO
from tests.manifests import containers

KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = ("local", "aws")
SUPPORTED = {
    "apiVersion",
    "kind",
    "namespace",
    "labels",
    "resources",
    "configMapGenerator",
    "images",
    "patches",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
# Lists a strategic merge patch merges item by item (their patchMergeKey in the Kubernetes API).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
}
_GENERATED = "__generated__"  # marks a generated ConfigMap until its hash suffix is added


def render(path: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize path` prints (order aside)."""
    objects = _build(path)
    renamed = {}
    for obj in objects:
        if obj.pop(_GENERATED, False):
            name = obj["metadata"]["name"]
            obj["metadata"]["name"] = renamed[name] = f"{name}-{config_map_hash(obj)}"
    for obj in objects:
        _rename_config_map_refs(obj, renamed)
    return objects


def _build(path: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((path / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    assert not unknown, f"{path}: tests/kustomize.py does not render {sorted(unknown)}: teach it"
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        target = path / entry
        objects += _build(target) if target.is_dir() else _documents(target)
    for generator in kustomization.get("configMapGenerator", []):
        _generate(path, generator, objects)
    for patch_entry in kustomization.get("patches", []):
        assert set(patch_entry) == {"path"}, f"{path}: only `patches: - path:` is rendered here"
        for patch in _documents(path / patch_entry["path"]):
            matching: list[dict[str, Any] | None] = [o for o in objects if _id(o) == _id(patch)]
            [target] = matching or [None]
            assert target is not None, f"{path}: patch for {_id(patch)} matches nothing"
            objects[objects.index(target)] = strategic_merge(target, patch)
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    for label in kustomization.get("labels", []):
        assert not label.get("includeSelectors") and not label.get("includeTemplates")
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    for image in kustomization.get("images", []):
        for container in containers(objects):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                name, tag = image.get("newName", name), image.get("newTag", tag)
                container["image"] = f"{name}:{tag}" if tag else name
    return objects


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _id(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _generate(path: Path, generator: dict[str, Any], objects: list[dict[str, Any]]) -> None:
    data: dict[str, str] = {}
    for env_file in generator.get("envs", []):
        for line in (path / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                data[key.strip()] = value
    for entry in generator.get("files", []):
        key, _, source = entry.rpartition("=")
        data[key or Path(source).name] = (path / source).read_text()
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    name, behavior = generator["name"], generator.get("behavior", "create")
    existing = [o for o in objects if o.get(_GENERATED) and _id(o) == ("ConfigMap", name)]
    if behavior == "create":
        assert not existing, f"{path}: ConfigMap {name} is generated twice"
        generated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
        objects.append({**generated, _GENERATED: True})
        return
    assert existing, f"{path}: `behavior: {behavior}` for {name}, which no base generates"
    existing[0]["data"] = {**existing[0]["data"], **data} if behavior == "merge" else data


def config_map_hash(obj: dict[str, Any]) -> str:
    """kustomize's name suffix: sha256 of the Go JSON of kind, data and an empty name (kustomize hashes
    before it names); the first 10 hex digits, with 0, 1, 3, a and e mapped to letters."""
    encoded = json.dumps(
        {"data": obj.get("data", {}), "kind": "ConfigMap", "name": ""},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):  # Go's HTML-safe JSON
        encoded = encoded.replace(char, escape)
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def strategic_merge(base: Any, patch: Any, key: str = "") -> Any:
    """A strategic merge patch: maps merged, `null` deletes, lists with a merge key merged by item."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for name, value in patch.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = strategic_merge(base[name], value, name) if name in base else value
        return merged
    merge_key = MERGE_KEYS.get(key)
    if isinstance(base, list) and isinstance(patch, list) and merge_key:
        merged_list = copy.deepcopy(base)
        for item in patch:
            matching: list[int | None] = [i for i, b in enumerate(base) if b[merge_key] == item[merge_key]]
            [index] = matching or [None]
            if index is None:
                merged_list.append(item)
            else:
                merged_list[index] = strategic_merge(base[index], item)
        return merged_list
    return copy.deepcopy(patch)


def _rename_config_map_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("configMapRef", "configMapKeyRef", "configMap") and value.get("name") in renamed:
                value["name"] = renamed[value["name"]]
            _rename_config_map_refs(value, renamed)
    elif isinstance(node, list):
        for item in node:
            _rename_config_map_refs(item, renamed)
