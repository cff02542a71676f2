"""docker-compose.yml's wiring: every address names a port its service exposes, and start-up order."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.compose import APP_SERVICES, compose, exposed, interpolate, references, service_env, start_order


@pytest.mark.parametrize("env", [{}, {"AWS_XRAY_DAEMON_ADDRESS": "xray-daemon:2000"}])
def test_every_address_names_a_port_its_service_exposes(env: dict[str, str]) -> None:
    """Each `service:port` in an environment or command is a port (and protocol) that service exposes."""
    spec = compose(env)
    found = []
    for name, service in spec["services"].items():
        for variable, value in service_env(spec, name).items():
            found += [(name, variable, *ref) for ref in references(spec, value, variable)]
        found += [(name, "command", *ref) for ref in references(spec, " ".join(service.get("command", [])))]
    assert {(n, v, target) for n, v, target, *_ in found} >= {("loadgen", "command", "gateway")}
    wrong = [ref for ref in found if (ref[3], ref[4]) not in exposed(spec, ref[2])]
    assert wrong == []


def test_app_services_expose_their_port_and_published_ports_match() -> None:
    """Each service exposes the PORT it listens on; every published port is one its service exposes, on
    the host's loopback only, and the host reaches the gateway on 8000 and Jaeger on 16686."""
    spec = compose()
    for name in APP_SERVICES:
        assert exposed(spec, name) == {(int(service_env(spec, name)["PORT"]), "tcp")}
    published = {}
    for name, service in spec["services"].items():
        for mapping in service.get("ports", []):
            address, host_port, container_port = mapping.split(":")
            assert address == "127.0.0.1", f"{name} publishes {mapping} beyond this machine"
            assert (int(container_port), "tcp") in exposed(spec, name), f"{name}: {mapping}"
            published[name, int(container_port)] = int(host_port)
    assert published[("gateway", 8000)] == 8000 and published[("jaeger", 16686)] == 16686


def test_services_wait_for_healthy_dependencies() -> None:
    """Every service_healthy condition names a service with a healthcheck, and the chain starts at users."""
    spec = compose()
    # the services' image (the `app` stage of deploy/Dockerfile) has a HEALTHCHECK of its own
    healthy = {n for n, s in spec["services"].items() if "healthcheck" in s or _target(s) == "app"}
    for name, service in spec["services"].items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in spec["services"], f"{name} depends on unknown {target}"
            if condition["condition"] == "service_healthy":
                assert target in healthy, f"{name} waits for {target}, which has no healthcheck"
    assert {"users", "activities"} <= set(spec["services"]["gateway"]["depends_on"])
    assert "users" in spec["services"]["activities"]["depends_on"]


def _target(service: dict[str, Any]) -> str | None:
    build = service.get("build")
    return build.get("target") if isinstance(build, dict) else None


def test_xray_daemon_listens_where_it_exposes() -> None:
    """The X-Ray daemon binds segments (UDP, -b) and sampling (TCP, -t) on the ports compose exposes."""
    spec = compose()
    command = spec["services"]["xray-daemon"]["command"]
    udp, tcp = (command[command.index(flag) + 1] for flag in ("-b", "-t"))
    assert udp.startswith("0.0.0.0:") and tcp.startswith("0.0.0.0:")
    assert {(int(udp.split(":")[1]), "udp"), (int(tcp.split(":")[1]), "tcp")} == exposed(spec, "xray-daemon")
    assert spec["services"]["xray-daemon"]["profiles"] == ["xray"]


def test_every_image_is_pinned_to_a_release() -> None:
    """Each image compose pulls names an exact release (x.y.z, optionally a digest), never a moving tag."""
    release = re.compile(r"[a-z0-9./-]+:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?")
    for name, service in compose()["services"].items():
        if "build" not in service:
            assert release.fullmatch(service["image"]), f"{name}: {service['image']}"


def test_compose_starts_the_services_in_make_dev_order() -> None:
    """depends_on orders users, activities, gateway exactly as `make dev` (services/dev.py) starts them."""
    from services.dev import ORDER

    assert start_order(compose()) == list(ORDER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET:-d}|${EMPTY:-d}|${UNSET:-d}", "v|d|d"),
        ("${SET-d}|${EMPTY-d}|${UNSET-d}", "v||d"),
        ("${SET:+a}|${EMPTY:+a}|${UNSET:+a}", "a||"),
        ("${SET+a}|${EMPTY+a}|${UNSET+a}", "a|a|"),
        ("$SET|${UNSET}|$$SET", "v||$SET"),
    ],
)
def test_interpolation_follows_compose(text: str, expected: str) -> None:
    """The tests read compose files with compose's documented operators (unset and empty differ)."""
    assert interpolate(text, {"SET": "v", "EMPTY": ""}) == expected
