"""Whether the NetworkPolicies of rendered manifests let one workload's pods reach another's port."""

from __future__ import annotations

from typing import Any

from tests.manifests import find


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (`matchLabels`, `matchExpressions` with In) matches these labels."""
    matched = all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", f"teach tests/network_policy.py {expression['operator']}"
        matched = matched and labels.get(expression["key"]) in expression["values"]
    return matched


def admits(objects: list[dict[str, Any]], source: str, target: str, port: int) -> bool:
    """Whether pods of Deployment `source` may open `port` (a container port) on pods of `target`:
    true when no policy selects the target, else when a rule of a selecting policy allows it."""

    def labels(name: str) -> dict[str, str]:
        found: dict[str, str] = find(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        return found

    policies = [
        o["spec"]
        for o in objects
        if o["kind"] == "NetworkPolicy"
        and "Ingress" in o["spec"].get("policyTypes", ["Ingress"])
        and selects(o["spec"]["podSelector"], labels(target))
    ]
    for policy in policies:
        for rule in policy.get("ingress", []):
            to_port = not rule.get("ports") or any(p.get("port") == port for p in rule["ports"])
            peers = rule.get("from", [])
            from_source = not peers or any(selects(p.get("podSelector", {}), labels(source)) for p in peers)
            if to_port and from_source:
                return True
    return not policies
