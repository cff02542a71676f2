"""X-Ray without a daemon, for tests of every layer: an emitter that keeps each document, and a
sampling rules file that records every request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLE_ALL = {"version": 2, "rules": [], "default": {"fixed_target": 0, "rate": 1.0}}


@dataclass
class StubEmitter:
    """Keeps each document it is asked to send, as the daemon would receive it."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def send_entity(self, entity: Any) -> None:
        text = entity.serialize()
        self.sizes.append(len(text.encode()))
        self.documents.append(json.loads(text))

    def set_daemon_address(self, address: str | None) -> None:
        pass


def rules_file(tmp: Path, rules: dict[str, Any] = SAMPLE_ALL) -> Path:
    """`rules` written as an X-Ray sampling rules file (XRAY_SAMPLING_RULES) in `tmp`."""
    path = tmp / "rules.json"
    path.write_text(json.dumps(rules))
    return path
