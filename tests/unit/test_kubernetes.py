"""deploy/kubernetes/, checked without a cluster: rendered, valid against the Kubernetes schemas, hardened."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.kustomize import KUBERNETES, OVERLAYS, render
from tests.manifests import container_env, containers, find, pod_specs

# The oldest Kubernetes minor release EKS still gives standard support to when this was written; the
# schemas ship inside kubernetes-validate, so nothing is fetched.
KUBERNETES_VERSION = "1.33"
TARGETS = ("base", *(f"overlays/{name}" for name in OVERLAYS))
APP_SERVICES = ("users", "activities", "gateway")
RELEASE = re.compile(r"[a-z0-9./-]+:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?")


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_matches_the_kubernetes_schema(target: str) -> None:
    """Each rendered object is valid against the Kubernetes API schema, strictly (no unknown field)."""
    for obj in render(KUBERNETES / target):
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_field_fails_the_schema() -> None:
    """The strict schema rejects a misspelt container field that a lenient apply would drop silently."""
    deployment = copy.deepcopy(find(render(KUBERNETES / "overlays/local"), "Deployment", "gateway"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def _kustomize() -> list[str] | None:
    """A kustomize of v5 or later (`labels` and `patches` are v4.1+; Debian's kubectl 1.20 has v2)."""
    for command, version in ((["kustomize", "build"], ["kustomize", "version"]),
                             (["kubectl", "kustomize"], ["kubectl", "version", "--client"])):  # fmt: skip
        if shutil.which(command[0]):
            printed = subprocess.run(version, capture_output=True, text=True, timeout=60).stdout
            found = re.search(r"v(\d+)\.\d+\.\d+", printed.split("Kustomize", 1)[-1])
            if found and int(found[1]) >= 5:
                return command
    return None


def _comparable(objects: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """Objects by kind and name, lists merged by name sorted (kustomize moves patched items first)."""

    def sort(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: sort(value) for key, value in node.items()}
        if isinstance(node, list):
            items = [sort(item) for item in node]
            named = all(isinstance(i, dict) and ("name" in i or "mountPath" in i) for i in items)
            return sorted(items, key=lambda i: str(i.get("name", i.get("mountPath")))) if named else items
        return node

    return {(o["kind"], o["metadata"]["name"]): sort(o) for o in objects}


@pytest.mark.parametrize("target", TARGETS)
def test_the_python_rendering_is_what_kustomize_prints(target: str) -> None:
    """tests/kustomize.py renders exactly what the real kustomize does, hash-suffixed names included."""
    command = _kustomize()
    if command is None:
        pytest.skip("no kustomize v5+ (nor a kubectl with one): the rendering is compared where there is")
    printed = subprocess.run([*command, str(KUBERNETES / target)], capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    theirs = [doc for doc in yaml.safe_load_all(printed.stdout) if doc]
    assert _comparable(render(KUBERNETES / target)) == _comparable(theirs)


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_lives_in_the_cruddur_namespace(target: str) -> None:
    """Every namespaced object, those an overlay adds included, is in `cruddur`, where the short
    Service names the pods are given (`users`, `jaeger`, `moto`...) resolve."""
    for obj in render(KUBERNETES / target):
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "cruddur", f"{obj['kind']} {obj['metadata']['name']}"


@pytest.mark.parametrize("target", TARGETS)
def test_every_image_is_pinned_to_a_release(target: str) -> None:
    """Every container image names an exact release (a digest cannot be known offline), never `latest`."""
    for container in containers(render(KUBERNETES / target)):
        assert RELEASE.fullmatch(container["image"]), f"{container['name']}: {container['image']}"


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_is_non_root_read_only_bounded_and_probed(target: str) -> None:
    """Each pod runs as a non-root user with no service account token; each container has a read-only
    root filesystem, no privilege escalation, no capability, requests and limits, and both probes."""
    objects = render(KUBERNETES / target)
    for workload, spec in pod_specs(objects):
        name = workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert "readinessProbe" in container and "livenessProbe" in container, name


@pytest.mark.parametrize("target", TARGETS)
def test_no_secret_is_written_into_the_manifests(target: str) -> None:
    """Keys and secrets reach the pods from Secrets only: no ConfigMap holds one, no env sets one."""
    objects = render(KUBERNETES / target)
    secret_names = {"AUTH_SECRET", "ROLLBAR_ACCESS_TOKEN", "HONEYCOMB_API_KEY", "OTEL_EXPORTER_OTLP_HEADERS"}
    assert not [o for o in objects if o["kind"] == "Secret"], "a Secret's value would be in the repository"
    for container in containers(objects):
        env = container_env(objects, container)
        for name in secret_names & set(env):
            assert "secretKeyRef" in env[name].get("valueFrom", {}), f"{container['name']}: {name}"
        assert not [n for n, v in env.items() if "value" in v and "valueFrom" in v], container["name"]


def _replicas_and_databases(target: str) -> dict[str, tuple[int, dict[str, Any] | None]]:
    objects = render(KUBERNETES / target)
    found = {}
    for workload, spec in pod_specs(objects):
        name = workload["metadata"]["name"]
        if name in APP_SERVICES:
            [container] = spec["containers"]
            database = container_env(objects, container).get("DATABASE_URL")
            found[name] = (workload["spec"]["replicas"], database)
    return found


def test_local_overlay_keeps_one_replica_of_each_sqlite_service() -> None:
    """Where a service's data is a SQLite file in the pod, it runs exactly one replica (a second would
    answer from its own diverging copy); the stateless gateway runs more."""
    found = _replicas_and_databases("overlays/local")
    for name, (replicas, database) in found.items():
        sqlite = database is not None and database.get("value", "").startswith("sqlite")
        assert (replicas == 1) if sqlite else (replicas >= 2), name
    assert {n for n, (_, db) in found.items() if db} == {"users", "activities"}


def test_aws_overlay_scales_every_service_on_postgresql() -> None:
    """On EKS every service runs at least two replicas, and each store's URL is a Secret's (PostgreSQL)."""
    found = _replicas_and_databases("overlays/aws")
    assert all(replicas >= 2 for replicas, _ in found.values()), found
    for name in ("users", "activities"):
        database = found[name][1]
        assert database is not None and set(database) == {"valueFrom"}, name
        reference = database["valueFrom"]["secretKeyRef"]
        assert reference["name"] == "cruddur-database" and not reference.get("optional"), name


def test_aws_overlay_binds_each_service_account_to_an_iam_role() -> None:
    """The services' and the collector's service accounts each carry their own IRSA role annotation."""
    objects = render(KUBERNETES / "overlays/aws")
    roles = {}
    for _, spec in pod_specs(objects):
        account = find(objects, "ServiceAccount", spec["serviceAccountName"])
        roles[spec["serviceAccountName"]] = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert set(roles) == {"cruddur", "otel-collector"}
    assert len(set(roles.values())) == 2 and all(r.startswith("arn:aws:iam::") for r in roles.values())
