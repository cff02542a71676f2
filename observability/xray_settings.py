"""Checks for the X-Ray settings, so bad configuration stops start-up with a clear message."""

from __future__ import annotations

import json
import re
from pathlib import Path

DEFAULT_RULES = Path(__file__).with_name("xray_sampling_rules.json")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")


def check_daemon_address(value: str | None) -> str | None:
    """`host:port`, or `tcp:host:port udp:host:port` as the SDK and daemon spell a split address."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    parts = value.split()
    if len(parts) == 1 and _HOST_PORT.match(parts[0]):
        return value
    if len(parts) == 2:
        kinds = {part.split(":", 1)[0] for part in parts}
        if kinds == {"tcp", "udp"} and all(_HOST_PORT.match(part.split(":", 1)[1]) for part in parts):
            return value
    raise ValueError(f"must be host:port or 'tcp:host:port udp:host:port', got {value!r}")


def udp_address(value: str | None) -> tuple[str, int]:
    """Where segments go: the UDP half of a daemon address (127.0.0.1:2000 by default)."""
    for part in (value or "127.0.0.1:2000").split():
        if part.startswith("tcp:"):
            continue
        host, _, port = part.removeprefix("udp:").rpartition(":")
        return host, int(port)
    raise ValueError(f"no UDP address in {value!r}")


def tcp_address(value: str | None) -> str:
    """Where centralized sampling rules come from: the TCP half (the same host:port when not split)."""
    for part in (value or "127.0.0.1:2000").split():
        if part.startswith("tcp:"):
            return part.removeprefix("tcp:")
    return (value or "127.0.0.1:2000").split()[0].removeprefix("udp:")


def check_rules_file(value: Path | None) -> Path | None:
    """A local sampling rules file (SDK format, version 2) that exists and parses."""
    if value is None or str(value) == "":
        return None
    try:
        rules = json.loads(value.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read sampling rules from {value}: {type(exc).__name__}") from exc
    if not isinstance(rules, dict) or rules.get("version") not in (1, 2) or "default" not in rules:
        raise ValueError(f"{value} is not an X-Ray local sampling rules document (version 2, with default)")
    return value


def load_rules(value: Path | None) -> dict[str, object]:
    """The local rules document: the given file, else the one shipped beside this module."""
    loaded = json.loads((value or DEFAULT_RULES).read_text())
    assert isinstance(loaded, dict)
    return loaded
