"""Traffic for `docker compose --profile load up`: home feeds, profile pages and new posts, forever.

The token comes from `--cruddur-token` (compose mints it with `python -m services.gateway.token`), so the
posts are signed with the gateway's own `AUTH_SECRET`. Each visitor makes one request every
`--cruddur-pacing` seconds (compose: `LOADGEN_PACING`, 60 by default), so the rate is users / pacing
whatever the response time: the rate every free tier is checked against (README, "What it costs").
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, constant_pacing, events, task

HANDLES = ("andrewbrown", "worf", "garek", "bayko", "londo")
PACING = 60.0  # seconds between one visitor's requests, unless --cruddur-pacing says otherwise


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--cruddur-token", default="", help="bearer token for POST /api/activities")
    parser.add_argument("--cruddur-pacing", type=float, default=PACING, help="seconds between requests")


def _pacing(user: FastHttpUser) -> float:
    pacing: float = user.environment.parsed_options.cruddur_pacing
    return constant_pacing(pacing)(user)


class Visitor(FastHttpUser):
    """Reads far more than it writes, as people do."""

    wait_time = _pacing

    @task(5)
    def home(self) -> None:
        self.client.get("/api/activities/home")

    @task(3)
    def profile(self) -> None:
        handle = random.choice(HANDLES)
        self.client.get(f"/api/activities/@{handle}", name="/api/activities/@{handle}")

    @task(1)
    def post(self) -> None:
        token = self.environment.parsed_options.cruddur_token
        self.client.post(
            "/api/activities",
            json={"message": f"load test crud {random.randint(0, 1_000_000)}"},
            headers={"Authorization": f"Bearer {token}"},
        )
