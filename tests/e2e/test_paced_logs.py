"""A service with `LOG_FLUSH_INTERVAL` set has written every JSON line once SIGTERM has stopped it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.harness import ServiceProcess, base_env


def _access_lines(service: ServiceProcess) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in service.output().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "cruddur.access"]


def test_a_stopped_service_has_written_every_paced_line(tmp_path: Path) -> None:
    """With lines held up to 5 s, a burst answered just before SIGTERM is all on stdout once the process
    has exited (uvicorn ends it by the signal: no `logging.shutdown`, the lifespan writes them)."""
    env = base_env(LOG_FLUSH_INTERVAL="5", LOG_FORMAT="json", OTEL_SDK_DISABLED="true")
    env["USERS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'users.db'}"
    users = ServiceProcess("users", env, tmp_path / "users.log").start()
    try:
        for _ in range(20):
            assert httpx.get(f"{users.url}/users/andrewbrown", timeout=5).status_code == 200
        assert len(_access_lines(users)) < 20  # still held: the interval has not passed
    finally:
        users.stop()
    assert len(_access_lines(users)) == 20
