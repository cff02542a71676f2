"""Traffic for `docker compose --profile load up`: home feeds, profile pages and new posts, forever.

The token comes from `--cruddur-token` (compose mints it with `python -m services.gateway.token`), so the
posts are signed with the gateway's own `AUTH_SECRET`. Each visitor makes one request every
`--cruddur-pacing` seconds (compose: `LOADGEN_PACING`, 60 by default), so the rate is users / pacing
whatever the response time: the rate every free tier is checked against (README, "What it costs").
A share of the requests, `--cruddur-fault-share` (compose passes `LOAD_FAULT_SHARE`, default 0.05),
carries one fault of `FAULTS` in its baggage, so Jaeger's error views and service map have failures to
show; the services apply them only with `FAULTS_ENABLED=true`. `--cruddur-fault-secret` (or
`FAULTS_SECRET`) goes in `X-Fault-Secret`.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, constant_pacing, events, task

HANDLES = ("andrewbrown", "worf", "garek", "bayko", "londo")
PACING = 60.0  # seconds between one visitor's requests, unless --cruddur-pacing says otherwise
# No timeouts: each would hold a user for DOWNSTREAM_TIMEOUT seconds.
FAULTS = (
    "fault.users=delay:200ms-800ms",
    "fault.activities=status:503",
    "fault.users=drop",
    "fault.activities=slow_query:300ms",
    "fault.users.get_user=status:500",
)


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--cruddur-token", default="", help="bearer token for POST /api/activities")
    parser.add_argument("--cruddur-pacing", type=float, default=PACING, help="seconds between requests")
    parser.add_argument(
        "--cruddur-fault-share", type=float, default=0.05, help="share (0-1) of requests that carry a fault"
    )
    parser.add_argument(
        "--cruddur-fault-secret",
        default="",
        env_var="FAULTS_SECRET",
        is_secret=True,
        help="the gateway's FAULTS_SECRET",
    )


def _pacing(user: FastHttpUser) -> float:
    pacing: float = user.environment.parsed_options.cruddur_pacing
    return constant_pacing(pacing)(user)


class Visitor(FastHttpUser):
    """Reads far more than it writes, as people do; now and then breaks something on purpose."""

    wait_time = _pacing

    def headers(self) -> dict[str, str]:
        options = self.environment.parsed_options
        if random.random() >= options.cruddur_fault_share:
            return {}
        headers = {"baggage": random.choice(FAULTS)}
        if options.cruddur_fault_secret:
            headers["X-Fault-Secret"] = options.cruddur_fault_secret
        return headers

    @task(5)
    def home(self) -> None:
        self.client.get("/api/activities/home", headers=self.headers())

    @task(3)
    def profile(self) -> None:
        handle = random.choice(HANDLES)
        self.client.get(
            f"/api/activities/@{handle}", name="/api/activities/@{handle}", headers=self.headers()
        )

    @task(1)
    def post(self) -> None:
        token = self.environment.parsed_options.cruddur_token
        self.client.post(
            "/api/activities",
            json={"message": f"load test crud {random.randint(0, 1_000_000)}"},
            headers={"Authorization": f"Bearer {token}", **self.headers()},
        )
