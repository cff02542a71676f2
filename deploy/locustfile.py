"""Traffic for `docker compose --profile load up`: home feeds, profile pages and new posts, forever.

Each visitor makes one request every `--cruddur-pacing` seconds (compose: `LOADGEN_PACING`, 60 by
default), so the rate is users / pacing whatever the response time: the rate every free tier is checked
against (README, "What it costs"). A share of the requests, `--cruddur-fault-share` (compose passes
`LOAD_FAULT_SHARE`, default 0.05), carries one fault of `FAULTS` in its baggage, so Jaeger's error
views and service map have failures to show; the services apply them only with `FAULTS_ENABLED=true`.
`--cruddur-fault-secret` (or `FAULTS_SECRET`) goes in `X-Fault-Secret`.

It runs until stopped, so it never holds one long-lived token: `Tokens` mints one with the gateway's
own settings (`AUTH_SECRET`, `AUTH_TOKEN_TTL`) and mints the next once half of its lifetime has
passed. The author is a seeded demo user; it is minted in-process (no asyncio under Locust's gevent)
rather than through the token command's users check, and the gateway answers 404 if it ever vanished.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from locust import FastHttpUser, constant_pacing, events, task

from services.gateway.auth import mint
from services.gateway.settings import GatewaySettings

HANDLES = ("andrewbrown", "worf", "garek", "bayko", "londo")
AUTHOR = "andrewbrown"
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


class Tokens:
    """The current bearer token for `AUTH_TOKEN_TTL` seconds, renewed at half its lifetime."""

    def __init__(self, handle: str) -> None:
        self.handle = handle
        self.settings = GatewaySettings()
        self.token = ""
        self.renew_at = 0.0
        self.lock = threading.Lock()

    def current(self) -> str:
        with self.lock:
            if time.monotonic() >= self.renew_at:
                self.token = mint(self.handle, self.settings.secret, ttl=self.settings.auth_token_ttl)
                self.renew_at = time.monotonic() + self.settings.auth_token_ttl / 2
            return self.token


TOKENS = Tokens(AUTHOR)


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
        token = TOKENS.current()
        self.client.post(
            "/api/activities",
            json={"message": f"load test crud {random.randint(0, 1_000_000)}"},
            headers={"Authorization": f"Bearer {token}", **self.headers()},
        )
