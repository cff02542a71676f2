"""A UDP listener that speaks the X-Ray daemon protocol, validates every document and assembles trees.

Each datagram is a header line (`{"format": "json", "version": 1}`) then one segment document, or an
independent ("streamed") subsegment. Documents are checked against the official schema
(`../shared/xray/xray-segmentdocument-schema-v1.0.0.json`, or the file `XRAY_SEGMENT_SCHEMA` names)
plus what the schema leaves out: hex ids, an anchored trace id, `end_time` or `in_progress`, and the
trace and parent of a streamed subsegment.
"""

from __future__ import annotations

import copy
import json
import os
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parents[2]
SCHEMA_NAME = "xray-segmentdocument-schema-v1.0.0.json"
MAX_DATAGRAM = 64 * 1024
TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
HEX_ID = re.compile(r"^[0-9a-f]{16}$")


def schema_path() -> Path:
    """The official schema: `XRAY_SEGMENT_SCHEMA`, else `shared/` beside the repository (as in CI)."""
    override = os.environ.get("XRAY_SEGMENT_SCHEMA")
    path = Path(override) if override else REPO.parent / "shared" / "xray" / SCHEMA_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"X-Ray segment schema not found at {path}: put shared/ beside the repository "
            "or set XRAY_SEGMENT_SCHEMA to the file"
        )
    return path


def problems(document: Any, validator: jsonschema.protocols.Validator) -> list[str]:
    """What is wrong with one document: the schema's complaints, then the checks it lacks."""
    found = [f"schema: {error.message}" for error in validator.iter_errors(document)]
    if not isinstance(document, dict):
        return found or ["not an object"]
    if not TRACE_ID.match(str(document.get("trace_id", ""))):
        found.append(f"trace_id {document.get('trace_id')!r} is not 1-<8 hex>-<24 hex>")
    if document.get("type") == "subsegment" and not HEX_ID.match(str(document.get("parent_id", ""))):
        found.append("a streamed subsegment needs a hex parent_id")
    if "parent_id" in document and not HEX_ID.match(str(document["parent_id"])):
        found.append(f"parent_id {document['parent_id']!r} is not 16 hex digits")
    stack = [document]
    while stack:
        entity = stack.pop()
        if not HEX_ID.match(str(entity.get("id", ""))):
            found.append(f"id {entity.get('id')!r} is not 16 hex digits")
        if "end_time" not in entity and entity.get("in_progress") is not True:
            found.append(f"{entity.get('name')}: neither end_time nor in_progress")
        stack.extend(entity.get("subsegments", []))
    return found


@dataclass
class XRayDaemon:
    """Listens on a loopback UDP port; `address` is what `AWS_XRAY_DAEMON_ADDRESS` should say."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[tuple[str, list[str]]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _socket: socket.socket | None = None

    @property
    def address(self) -> str:
        assert self._socket is not None
        return f"127.0.0.1:{self._socket.getsockname()[1]}"

    def start(self) -> XRayDaemon:
        schema = json.loads(schema_path().read_text())
        self._validator = jsonschema.Draft4Validator(schema)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self._socket.bind(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        assert self._socket is not None
        while True:
            try:
                datagram = self._socket.recv(MAX_DATAGRAM + 1)
            except OSError:
                return
            self.receive(datagram)

    def receive(self, datagram: bytes) -> None:
        """Check one datagram and keep its document (public so tests can feed it bytes)."""
        header, newline, body = datagram.partition(b"\n")
        try:
            ok_header = newline and json.loads(header) == {"format": "json", "version": 1}
            document = json.loads(body)
        except ValueError:
            ok_header, document = False, None
        found = [] if ok_header else ["bad protocol header or body"]
        if document is not None:
            found += problems(document, self._validator)
        if len(datagram) > MAX_DATAGRAM:
            found.append(f"datagram of {len(datagram)} bytes")
        with self._lock:
            self.sizes.append(len(datagram))
            if found:
                self.invalid.append((datagram[:300].decode(errors="replace"), found))
            else:
                self.documents.append(document)

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The segments of one trace with their streamed subsegments put back in place."""
        with self._lock:
            documents = [copy.deepcopy(d) for d in self.documents if d.get("trace_id") == trace_id]
        segments = [d for d in documents if d.get("type") != "subsegment"]
        streamed = [d for d in documents if d.get("type") == "subsegment"]
        placed = True
        while streamed and placed:
            placed = False
            for sub in list(streamed):
                parent = _find(segments, sub["parent_id"])
                if parent is not None:
                    parent.setdefault("subsegments", []).append(sub)
                    streamed.remove(sub)
                    placed = True
        return segments

    def streamed(self, trace_id: str) -> int:
        with self._lock:
            return sum(1 for d in self.documents if d.get("trace_id") == trace_id and d.get("type"))


def _find(entities: list[dict[str, Any]], entity_id: str) -> dict[str, Any] | None:
    stack = list(entities)
    while stack:
        entity = stack.pop()
        if entity.get("id") == entity_id:
            return entity
        stack.extend(entity.get("subsegments", []))
    return None


def walk(entity: dict[str, Any]) -> list[dict[str, Any]]:
    """An entity and all its subsegments, depth first."""
    found = [entity]
    for sub in entity.get("subsegments", []):
        found.extend(walk(sub))
    return found
