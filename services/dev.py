"""`python -m services.dev` (`make dev`): the three services as processes, without Docker.

Each runs exactly as `python -m services.<name>`, with the shell's environment over `.env`'s (the
file compose reads too, if present), `ENVIRONMENT=development` unless set, and its own `PORT`: the
ports are `USERS_PORT`, `ACTIVITIES_PORT` and `GATEWAY_PORT` (8002, 8001, 8000), and each caller's
`USERS_URL`/`ACTIVITIES_URL` follow them. Ctrl-C stops all three.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ORDER = ("users", "activities", "gateway")


class DevSettings(BaseSettings):
    """Where `make dev` puts each service (from the environment, then `.env`)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    host: str = "127.0.0.1"
    users_port: int = Field(default=8002, ge=1, le=65535)
    activities_port: int = Field(default=8001, ge=1, le=65535)
    gateway_port: int = Field(default=8000, ge=1, le=65535)


def environments(environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> dict[str, dict[str, str]]:
    """Each service's environment: `.env` under the shell's, then its port and its downstream URLs.

    Args:
        environ: the shell's environment.
        dotenv: the variables of `.env` (empty when there is none).
    """
    base = {k: v for k, v in dotenv.items() if v is not None} | dict(environ)
    base.setdefault("ENVIRONMENT", "development")
    ports = DevSettings.model_validate(
        {k.lower(): v for k, v in base.items() if k.lower() in DevSettings.model_fields}
    )
    host = base.get("HOST") or ports.host
    urls = {
        "USERS_URL": f"http://{host}:{ports.users_port}",
        "ACTIVITIES_URL": f"http://{host}:{ports.activities_port}",
    }
    own = {"users": ports.users_port, "activities": ports.activities_port, "gateway": ports.gateway_port}
    return {name: {**base, **urls, "HOST": host, "PORT": str(port)} for name, port in own.items()}


def main() -> int:
    dotenv = dotenv_values(".env") if Path(".env").is_file() else {}
    envs = environments(os.environ, dotenv)
    processes = [
        subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=envs[name]) for name in ORDER
    ]
    gateway = f"http://{envs['gateway']['HOST']}:{envs['gateway']['PORT']}"
    print(
        f"starting: the page on {gateway}/, activities :{envs['activities']['PORT']}, "
        f"users :{envs['users']['PORT']}"
        f"{' (with .env)' if dotenv else ''}; each logs 'serving on' once it listens "
        f"(or: curl -i {gateway}/api/activities/home); Ctrl-C stops all",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    failed = 0
    for name, process in zip(ORDER, processes, strict=True):
        try:
            code = process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        if code not in (0, -signal.SIGTERM):
            print(f"{name} exited with {code}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
