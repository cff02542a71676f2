"""Services as real processes on free loopback ports, and polling with a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's (no keys) leaks into the services."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def traced_env(otlp_endpoint: str, **extra: str) -> dict[str, str]:
    """`base_env` with spans exported to `otlp_endpoint` 0.1 s after they end (tests poll for them)."""
    return base_env(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_endpoint, OTEL_BSP_SCHEDULE_DELAY="100", **extra)


def poll(check: Callable[[], T | None], *, timeout: float = 15.0, interval: float = 0.1, what: str = "") -> T:
    """Call `check` until it returns something other than None or False, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last is not None and last is not False:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check!r} (last: {last!r})")


@dataclass
class ServiceProcess:
    """`python -m services.<name>` (or `module`) with its own environment, its output in a log file."""

    name: str
    env: Mapping[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    module: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> ServiceProcess:
        env = {**self.env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module or f"services.{self.name}"],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=self._log,
        )
        if wait:
            poll(self._healthy, timeout=30, what=f"{self.name} to answer /healthz (log: {self.log_path})")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM, as compose and uvicorn expect; the lifespan flushes telemetry on the way out."""
        if self.process is None:
            return None
        if self.process.poll() is not None:
            self._log.close()
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s:\n{self.output()}") from None
        finally:
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Stack:
    """users, activities and gateway wired to each other, each with the environment it is given."""

    tmp: Path
    env: Mapping[str, str]
    per_service: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self) -> Stack:
        users = self._make("users", DATABASE_URL=f"sqlite:///{self.tmp}/users.db")
        activities = self._make(
            "activities", DATABASE_URL=f"sqlite:///{self.tmp}/activities.db", USERS_URL=users.url
        )
        self._make("gateway", USERS_URL=users.url, ACTIVITIES_URL=activities.url)
        try:
            for name in ("users", "activities", "gateway"):
                self.services[name].start()
        except BaseException:
            self.stop()  # one failed to start: leave no orphan of the others behind
            raise
        return self

    def _make(self, name: str, **wiring: str) -> ServiceProcess:
        env = {**self.env, **wiring, **self.per_service.get(name, {})}
        service = ServiceProcess(name, env, self.tmp / f"{name}.log")
        self.services[name] = service
        return service

    @property
    def gateway(self) -> str:
        return self.services["gateway"].url

    def stop(self) -> None:
        """Stop every service, even when one of them fails to stop in time (that is raised after)."""
        failures = []
        for name in ("gateway", "activities", "users"):
            if name in self.services:
                try:
                    self.services[name].stop()
                except AssertionError as failure:
                    failures.append(str(failure))
        if failures:
            raise AssertionError("\n".join(failures))


def feed_answers_quickly(gateway: str, times: int = 20, within: float = 2.0) -> httpx.Response:
    """Ask the gateway for the home feed `times` times; each answer is the full feed, in time."""
    response = None
    for _ in range(times):
        started = time.monotonic()
        response = httpx.get(f"{gateway}/api/activities/home")
        assert response.status_code == 200 and len(response.json()) == 5
        assert time.monotonic() - started < within
    assert response is not None
    return response
