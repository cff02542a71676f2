"""Traffic for `docker compose --profile load up`: home feeds, profile pages and new posts, forever.

It runs until stopped, so it never holds one long-lived token: `Tokens` mints one with the gateway's
own settings (`AUTH_SECRET`, `AUTH_TOKEN_TTL`) and mints the next once half of its lifetime has
passed. The author is a seeded demo user; it is minted in-process (no asyncio under Locust's gevent)
rather than through the token command's users check, and the gateway answers 404 if it ever vanished.
"""

from __future__ import annotations

import random
import threading
import time

from locust import FastHttpUser, between, task

from services.gateway.auth import mint
from services.gateway.settings import GatewaySettings

HANDLES = ("andrewbrown", "worf", "garek", "bayko", "londo")
AUTHOR = "andrewbrown"


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
    """Reads far more than it writes, as people do."""

    wait_time = between(0.5, 2.0)

    @task(5)
    def home(self) -> None:
        self.client.get("/api/activities/home")

    @task(3)
    def profile(self) -> None:
        handle = random.choice(HANDLES)
        self.client.get(f"/api/activities/@{handle}", name="/api/activities/@{handle}")

    @task(1)
    def post(self) -> None:
        token = TOKENS.current()
        self.client.post(
            "/api/activities",
            json={"message": f"load test crud {random.randint(0, 1_000_000)}"},
            headers={"Authorization": f"Bearer {token}"},
        )
