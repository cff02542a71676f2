"""docker-compose.yml's topology as plain processes: compose's commands and environment, hosts on loopback.

Each app service runs the `command` compose gives it, with the image's and compose's environment;
every `service:port` in that environment becomes a loopback address: the other services on free
ports, the collector's OTLP port an OTLP receiver, its X-Ray port the X-Ray daemon stand-in, moto a
moto server.
So `make dev` (the same processes) and compose cannot drift apart unnoticed.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer

from tests.compose import APP_SERVICES, compose, service_env, start_order
from tests.dockerfile import healthcheck_command, image_env
from tests.e2e.harness import ServiceProcess, base_env, free_port
from tests.e2e.test_traces import HOME_EDGES, trace_id_of, wait_for_edges
from tests.standins.otlp import OtlpReceiver
from tests.standins.xray_daemon import XRayDaemon

pytestmark = pytest.mark.e2e

ADDRESS = re.compile(r"(?P<prefix>^|//)(?P<host>[a-z][a-z0-9-]*):(?P<port>\d+)")


@dataclass
class Topology:
    spec: dict[str, Any]
    otlp: OtlpReceiver
    xray: XRayDaemon
    services: dict[str, ServiceProcess]
    loopback: dict[tuple[str, int], str]
    volumes: dict[str, Path]

    def env(self, name: str) -> dict[str, str]:
        """The service's compose environment with every compose address on loopback."""
        return {key: self.localize(value) for key, value in service_env(self.spec, name).items()}

    def localize(self, value: str) -> str:
        def one(match: re.Match[str]) -> str:
            host, port = match["host"], int(match["port"])
            if host not in self.spec["services"]:
                return match[0]
            assert (host, port) in self.loopback, f"no stand-in for {host}:{port} (in {value!r})"
            return match["prefix"] + self.loopback[host, port]

        for target, path in self.volumes.items():
            value = value.replace(target, str(path))
        return ADDRESS.sub(one, value)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    spec, tmp = compose(), tmp_path_factory.mktemp("compose")
    otlp = OtlpReceiver().start()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    xray = XRayDaemon().start()
    ports = {name: free_port() for name in APP_SERVICES}
    loopback = {
        ("otel-collector", 4318): otlp.endpoint.removeprefix("http://"),
        ("otel-collector", 2000): xray.address,
        ("moto", 5000): f"127.0.0.1:{moto.get_host_and_port()[1]}",
    }
    loopback |= {(n, int(service_env(spec, n)["PORT"])): f"127.0.0.1:{ports[n]}" for n in APP_SERVICES}
    volumes = {}
    for name in APP_SERVICES:
        for volume in spec["services"][name].get("volumes", []):
            source, target = volume.split(":")[:2]
            volumes[target] = tmp / source
    topo = Topology(spec, otlp, xray, {}, loopback, volumes)
    image = {k: v for k, v in image_env().items() if k != "PATH"}
    try:
        for name in start_order(spec):
            assert spec["services"][name]["command"] == ["python", "-m", f"services.{name}"]
            env = base_env(**image, **topo.env(name))
            process = ServiceProcess(name, env, tmp / f"{name}.log", port=ports[name])
            topo.services[name] = process.start()
        yield topo
    finally:
        for process in reversed(topo.services.values()):
            process.stop()
        otlp.stop()
        moto.stop()
        xray.stop()


def test_home_feed_through_the_compose_topology_is_one_trace(topology: Topology) -> None:
    """Through compose's gateway the home feed answers with authors and is one trace of three services,
    sent once, as OTLP spans to the collector that carry what X-Ray shows (it forwards them to X-Ray)."""
    response = httpx.get(f"{topology.services['gateway'].url}/api/activities/home", timeout=10)
    assert response.status_code == 200
    assert response.json() and all(post["author"] for post in response.json())
    trace_id = trace_id_of(response)
    assert response.headers["x-amzn-trace-id"].startswith(f"Root=1-{trace_id[:8]}-{trace_id[8:]};")
    spans = wait_for_edges(topology.otlp, trace_id, HOME_EDGES)
    assert {span.service for span in spans} == set(APP_SERVICES)
    servers = [span for span in spans if span.kind == "SERVER"]
    assert all(span.attributes["aws.xray.annotations"] == ["http.route", "enduser.id"] for span in servers)
    assert topology.xray.documents == [], "one span model: no SDK segments beside the spans"


def test_image_healthcheck_passes_for_every_service(topology: Topology) -> None:
    """The image's HEALTHCHECK, run with a service's PORT, succeeds against that running service."""
    command = [sys.executable, *healthcheck_command()[1:]]
    for name, process in topology.services.items():
        env = base_env(PORT=str(process.port))
        result = subprocess.run(command, env=env, capture_output=True, timeout=30)
        assert result.returncode == 0, (name, result.stderr)


def test_load_generator_token_is_accepted_by_the_gateway(topology: Topology) -> None:
    """The token compose's load generator mints is accepted by compose's gateway for a new post."""
    command = " ".join(topology.spec["services"]["loadgen"]["command"])
    match = re.search(r"\$\((python -m services\.gateway\.token [^)]*)\)", command)
    assert match, command
    argv = [sys.executable, *shlex.split(match[1])[1:]]
    env = base_env(**topology.env("loadgen"))
    token = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=True).stdout
    response = httpx.post(
        f"{topology.services['gateway'].url}/api/activities",
        json={"message": "posted as the load generator"},
        headers={"Authorization": f"Bearer {token.strip()}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.json()["author"]["handle"] == "andrewbrown"
