"""What a new user meets first: `make dev`'s ports and .env, "serving on" only once bound, readable logs,
and `make help` listing every target."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import subprocess
import sys

import pytest
import uvicorn

from observability.logs import formatter
from services.common.server import AnnouncingServer
from services.dev import environments
from tests.compose import REPO


def test_make_dev_moves_each_service_to_its_port() -> None:
    """GATEWAY_PORT, ACTIVITIES_PORT and USERS_PORT move each service, and the callers' URLs follow."""
    envs = environments({"GATEWAY_PORT": "9000", "USERS_PORT": "9002"}, {"ACTIVITIES_PORT": "9001"})
    assert {name: env["PORT"] for name, env in envs.items()} == {
        "users": "9002",
        "activities": "9001",
        "gateway": "9000",
    }
    assert envs["gateway"]["USERS_URL"] == "http://127.0.0.1:9002"
    assert envs["gateway"]["ACTIVITIES_URL"] == "http://127.0.0.1:9001"
    assert envs["activities"]["USERS_URL"] == "http://127.0.0.1:9002"


def test_make_dev_reads_dotenv_under_the_shell() -> None:
    """`.env` supplies what the shell does not set; the shell wins; ENVIRONMENT defaults to development."""
    envs = environments(
        {"LOG_LEVEL": "DEBUG"}, {"LOG_LEVEL": "ERROR", "ROLLBAR_ENDPOINT": "http://x", "E": None}
    )
    assert envs["users"]["LOG_LEVEL"] == "DEBUG"
    assert envs["users"]["ROLLBAR_ENDPOINT"] == "http://x"
    assert envs["users"]["ENVIRONMENT"] == "development"
    assert environments({"ENVIRONMENT": "staging"}, {})["gateway"]["ENVIRONMENT"] == "staging"


async def app(scope: object, receive: object, send: object) -> None:
    """Nothing is served: these tests only start and stop the server."""


async def test_serving_on_is_logged_only_after_the_bind(caplog: pytest.LogCaptureFixture) -> None:
    """A port already taken logs no "serving on" (the start fails); a free one logs it once listening."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit):
        await AnnouncingServer(config, "serving on taken").serve()
    taken.close()
    assert "serving on taken" not in caplog.text
    free = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    server = AnnouncingServer(free, "serving on free")
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started and "serving on free" in caplog.text
    server.should_exit = True
    await asyncio.wait_for(task, 5)


def lines_for(log_format: str, monkeypatch: pytest.MonkeyPatch, tty: bool) -> str:
    stream = io.StringIO()
    monkeypatch.setattr(stream, "isatty", lambda: tty)
    monkeypatch.setattr(sys, "stdout", stream)
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        formatter.configure_logging("users", "INFO", log_format)
        logging.getLogger("cruddur.test").info("hello %s", "world", extra={"http_status": 200})
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    return stream.getvalue()


def test_text_logs_for_a_terminal_json_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """LOG_FORMAT=auto writes readable lines to a terminal and JSON to a pipe; text and json force one."""
    readable = lines_for("auto", monkeypatch, tty=True)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} INFO    cruddur\.test: hello world  \[.*http_status=200.*\]\n", readable
    )
    assert json.loads(lines_for("auto", monkeypatch, tty=False))["message"] == "hello world"
    assert json.loads(lines_for("json", monkeypatch, tty=True))["http_status"] == 200
    assert lines_for("text", monkeypatch, tty=False).split()[1] == "INFO"


def test_make_help_lists_every_target() -> None:
    """`make help` names every documented target of the Makefile, test-e2e included."""
    makefile = (REPO / "Makefile").read_text()
    documented = set(re.findall(r"^([a-z0-9-]+):.*## ", makefile, re.M))
    assert "test-e2e" in documented
    listed = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert {line.split("\t")[0] for line in listed.stdout.splitlines()} == documented
