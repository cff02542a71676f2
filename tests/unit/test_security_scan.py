"""A static security scan (checkov) of what deploy/ ships, with every accepted finding justified.

checkov pins older boto3 and packaging than the services use, so it lives in its own virtualenv:
`make scan-tools` (which .ci/run calls) puts it in .venv-checkov; elsewhere this test is skipped and
says so. It scans the rendered Kubernetes overlays, the ECS task definitions, services and IAM
policies (as the CloudFormation resources they would be, where checkov's ECS and IAM checks apply),
deploy/Dockerfile, and for committed secrets deploy/, docker-compose.yml and .env.example. It runs
with --skip-download and BC_SKIP_MAPPING: nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compose import REPO
from tests.kustomize import KUBERNETES, OVERLAYS, render

CHECKOV = shutil.which("checkov", path=str(REPO / ".venv-checkov" / "bin")) or shutil.which("checkov")
BASELINE = REPO / "deploy" / "security-baseline.yaml"
pytestmark = pytest.mark.skipif(CHECKOV is None, reason="checkov is not installed: `make scan-tools`")


def cloudformation(ecs: Path) -> dict[str, Any]:
    """deploy/ecs/'s documents as CloudFormation resources (the same fields, capitalised)."""

    def pascal(node: Any, keep: bool = False) -> Any:
        if isinstance(node, dict):
            return {(k if keep else k[0].upper() + k[1:]): pascal(v, k == "options") for k, v in node.items()}
        return [pascal(item) for item in node] if isinstance(node, list) else node

    resources = {}
    for kind, folder in (("AWS::ECS::TaskDefinition", "task-definitions"), ("AWS::ECS::Service", "services")):
        for path in sorted((ecs / folder).glob("*.json")):
            properties = pascal(json.loads(path.read_text()))
            resources[f"{kind.split('::')[-1]}{path.stem.title()}"] = {"Type": kind, "Properties": properties}
    for path in sorted((ecs / "iam").glob("*.json")):
        document = json.loads(path.read_text())
        if "trust" not in path.name:
            name = "Policy" + path.stem.title().replace("-", "")
            resources[name] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def checkov(*args: str) -> list[tuple[str, str, str]]:
    """(check, resource, file) of each failed check of one checkov run."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    command = [str(CHECKOV), *args, "-o", "json", "--quiet", "--compact", "--skip-download"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    reports = json.loads(run.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    return [
        (failed["check_id"], failed["resource"], failed["file_path"])
        for report in reports
        for failed in report.get("results", {}).get("failed_checks", [])
    ]


def justified(finding: tuple[str, str, str], accepted: list[dict[str, Any]]) -> bool:
    """Whether a baseline entry names this finding's check and its resource (or `all`)."""
    check, resource, _ = finding
    entries = [entry["resources"] for entry in accepted if entry["check"] == check]
    return any(resources == "all" or resource in resources for resources in entries)


def test_every_finding_is_fixed_or_justified(tmp_path: Path) -> None:
    """Each checkov finding on the manifests, task definitions, IAM policies, Dockerfile and compose
    files is listed in deploy/security-baseline.yaml with a reason, and each listed one still occurs."""
    for overlay in OVERLAYS:
        rendered = yaml.safe_dump_all(render(KUBERNETES / "overlays" / overlay), sort_keys=False)
        (tmp_path / f"kubernetes-{overlay}.yaml").write_text(rendered)
    (tmp_path / "ecs.json").write_text(json.dumps(cloudformation(REPO / "deploy" / "ecs"), indent=1))
    frameworks = ["--framework", "kubernetes", "cloudformation", "dockerfile"]
    findings = checkov("-d", str(tmp_path), "-f", "deploy/Dockerfile", *frameworks)
    compose_files = ["-f", "docker-compose.yml", "-f", ".env.example"]
    findings += checkov("-d", "deploy", *compose_files, "--framework", "secrets")
    accepted = yaml.safe_load(BASELINE.read_text())["accepted"]
    assert all(entry["why"].strip() for entry in accepted)
    unjustified = [finding for finding in findings if not justified(finding, accepted)]
    assert unjustified == []
    stale = [entry["check"] for entry in accepted if entry["check"] not in {f[0] for f in findings}]
    assert stale == []


def test_a_new_finding_is_not_justified_by_the_baseline(tmp_path: Path) -> None:
    """The scan does report a hardening removed from a manifest (so a clean result means something)."""
    objects = render(KUBERNETES / "overlays" / "local")
    for obj in objects:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "users":
            [container] = obj["spec"]["template"]["spec"]["containers"]
            container["securityContext"]["readOnlyRootFilesystem"] = False
    (tmp_path / "kubernetes.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    findings = checkov("-d", str(tmp_path), "--framework", "kubernetes")
    assert ("CKV_K8S_22", "Deployment.cruddur.users") in {finding[:2] for finding in findings}
