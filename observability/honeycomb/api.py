"""The two ways the setup talks to Honeycomb: its public API over HTTP, or a dry run that only prints.

Both answer the same four calls, so planning and applying are one code path: a dry run reads nothing
(it needs no key and no network, and plans as for an environment without any of this project's
queries or board) and answers each write with a placeholder id.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import httpx

ALL = "__all__"  # environment-wide: each service is its own dataset, the queries span all of them


class HoneycombError(Exception):
    """Honeycomb refused a call: the method, path, status and its error message."""


class Api(Protocol):
    """What the setup needs of Honeycomb's API (paths as the API reference spells them)."""

    reads: bool

    def say(self, message: str) -> None: ...

    def get(self, path: str) -> Any: ...

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any: ...


class LiveApi:
    """Honeycomb's public API with a configuration key.

    Args:
        endpoint: `https://api.honeycomb.io` (or the EU one, or a local stand-in in tests).
        key: a configuration key (header `X-Honeycomb-Team`).
        timeout: seconds per call.
    """

    reads = True

    def __init__(self, endpoint: str, key: str, *, timeout: float = 10.0) -> None:
        headers = {"X-Honeycomb-Team": key, "User-Agent": "cruddur-honeycomb-setup/0.1"}
        self._http = httpx.Client(base_url=endpoint, headers=headers, timeout=timeout)

    def say(self, message: str) -> None:
        print(message)

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, path, body)

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.is_error:
            try:
                reason = response.json().get("error", response.text)
            except ValueError:
                reason = response.text
            raise HoneycombError(f"{method} {path}: HTTP {response.status_code}: {str(reason)[:300]}")
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()


class DryRun:
    """Reads are skipped (empty answers); writes are printed and answered with a placeholder id."""

    reads = False

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any] | None]] = []

    def say(self, message: str) -> None:
        pass  # the "would ..." lines already say it

    def get(self, path: str) -> Any:
        return []

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        self.calls.append((method, path, body))
        print(f"would {method} {path} {json.dumps(body, sort_keys=True)}")
        return {"id": f"<new id {len(self.calls)}>", "links": {}}
