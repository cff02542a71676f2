"""deploy/kubernetes/'s probes against the running services: each asks a path every service answers."""

from __future__ import annotations

import httpx

from tests.dockerfile import healthcheck_command
from tests.inprocess.wiring import Apps
from tests.kustomize import KUBERNETES, render
from tests.manifests import find
from tests.unit.test_kubernetes_wiring import APP_SERVICES


async def test_probes_ask_a_path_every_service_answers(apps: Apps) -> None:
    """Readiness and liveness probes name the port the container listens on and a path each service
    answers with 200 (the path of the image's own HEALTHCHECK)."""
    objects = render(KUBERNETES / "base")
    for name in APP_SERVICES:
        [container] = find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        for probe in (container["readinessProbe"], container["livenessProbe"]):
            assert probe["httpGet"]["port"] == container["ports"][0]["name"]
            assert probe["httpGet"]["path"] in " ".join(healthcheck_command())
            transport = httpx.ASGITransport(app=getattr(apps, name))
            async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
                assert (await client.get(probe["httpGet"]["path"])).status_code == 200
