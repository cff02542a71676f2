"""Reading docker-compose.yml and .env.example as compose would.

No Docker engine here: interpolation and YAML merge keys are done the
way compose documents them, so the tests can check what the containers would get.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
APP_SERVICES = ("users", "activities", "gateway")

_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-+?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)
_REFERENCE = re.compile(r"(?:^|//|\s)(?P<host>[a-z][a-z0-9-]*):(?P<port>\d+)")
_ENV_LINE = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>\S*)")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR:?err}` and `$$`."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"] or match["bare"], match["op"], match["arg"] or ""
        if "$" in arg:
            raise NotImplementedError(f"nested interpolation in ${{{name}...}}: teach tests/compose.py")
        value = env.get(name)
        if op is None:
            return value or ""
        if op == ":-":
            return value if value else arg
        if op == "-":
            return value if value is not None else arg
        if op == ":+":
            return arg if value else ""
        if op == "+":
            return arg if value is not None else ""
        if (op == ":?" and not value) or (op == "?" and value is None):
            raise KeyError(f"{name}: {arg}")
        return value or ""

    return _VAR.sub(one, text)


def variables(node: Any) -> set[str]:
    """Names of the variables compose interpolates in a (raw) compose document or string."""
    if isinstance(node, str):
        return {m["name"] or m["bare"] for m in _VAR.finditer(node) if not m["escaped"]}
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return set().union(set(), *(variables(child) for child in children))


def _resolve(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _resolve(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict[str, Any]:
    """docker-compose.yml as YAML, merge keys applied, not interpolated."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as compose sees it with `env` as the shell and .env (nothing set by default)."""
    resolved: dict[str, Any] = _resolve(raw_compose(), env or {})
    return resolved


def env_example() -> tuple[dict[str, str], set[str]]:
    """.env.example: the values it sets, and the names it lists commented out."""
    values: dict[str, str] = {}
    commented: set[str] = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match is None:
            continue
        if match["comment"]:
            commented.add(match["name"])
        else:
            values[match["name"]] = match["value"]
    return values, commented


def service_env(spec: Mapping[str, Any], name: str) -> dict[str, str]:
    """The environment a compose file gives one service (map or list form), as strings."""
    environment = spec["services"][name].get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def exposed(spec: Mapping[str, Any], name: str) -> set[tuple[int, str]]:
    """(port, protocol) a compose service declares under `expose`."""
    ports = (str(p).partition("/") for p in spec["services"][name].get("expose", []))
    return {(int(port), proto or "tcp") for port, _, proto in ports}


def references(spec: Mapping[str, Any], text: str, variable: str = "") -> list[tuple[str, int, str]]:
    """(service, port, protocol) for each `service:port` of this compose file named in `text`."""
    found: list[tuple[str, int, str]] = []
    for match in _REFERENCE.finditer(text):
        if match["host"] in spec["services"]:
            protocols = ("udp", "tcp") if variable.endswith("XRAY_DAEMON_ADDRESS") else ("tcp",)
            found.extend((match["host"], int(match["port"]), p) for p in protocols)
    return found


def start_order(spec: dict[str, Any]) -> list[str]:
    """The app services in the order their depends_on lets compose start them."""
    order: list[str] = []
    while len(order) < len(APP_SERVICES):
        ready = [
            name
            for name in APP_SERVICES
            if name not in order
            and set(spec["services"][name].get("depends_on", {})) & set(APP_SERVICES) <= set(order)
        ]
        assert ready, f"depends_on has a cycle among {set(APP_SERVICES) - set(order)}"
        order += ready
    return order
