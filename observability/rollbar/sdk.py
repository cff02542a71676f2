"""The `rollbar` SDK, configured once per process: it builds every item; the app's sender posts it.

The SDK keeps its configuration in module globals, so `rollbar.init` runs once per process
(`init_once`), with the first app's token; a second `init` would be ignored by the SDK (after
merging some of its options and not others). What differs per app travels with each item instead:
a `Report` carries environment, code version, host, fingerprint, person, route and trace ids as
`payload_data` / `extra_data`; the app's own `RollbarSender` has the SDK build it on its thread, a
payload handler (`rollbar.events`) takes the finished payload from the SDK before any send, and the
sender posts it to that app's endpoint with that app's token. So several apps in one process (the
tests) each reach their own Rollbar.
Process-wide, from the first app: whether local variables are captured (`ROLLBAR_CAPTURE_LOCALS`).

Redaction: the SDK's scrub fields (`password`, `authorization`, ...) run first, then the project's
policy (`observability.redact`) over the whole item as a custom transform (`policy.RedactionPolicy`).

`init` never configures logging (`allow_logging_basic_config=False`) and installs no excepthook; its
`handler` is never used: the payload handler takes every payload, and one reported outside a
`Report` (code calling `rollbar.report_*` itself) is dropped with a warning, never posted from the loop.
"""

from __future__ import annotations

import logging
import math
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import rollbar
from rollbar.lib import events
from starlette.requests import Request
from starlette.types import Scope

from observability.rollbar.policy import RedactionPolicy

log = logging.getLogger("cruddur.errors")

# `server.root`: lets Rollbar link frames to the repository; frames under it also get locals when on.
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class Report:
    """One unhandled error, captured on the request path; `payload` has the SDK build its item later.

    Building is the expensive part (milliseconds: the SDK walks the whole item once per transform),
    so it runs on the sender's thread, never on the event loop; the uuid and timestamp are fixed
    here, so the span and the log line name the item before it exists.

    Args:
        error: the unhandled exception (its traceback is read when the item is built).
        scope: the request's ASGI scope (the SDK reads it through a Starlette `Request`).
        extra_data: the item's `custom`.
        payload_data: merged over the item's `data` last; must hold `uuid`.
    """

    error: BaseException
    scope: Scope
    extra_data: dict[str, Any]
    payload_data: dict[str, Any]

    @property
    def uuid(self) -> str:
        return str(self.payload_data["uuid"])

    def payload(self) -> dict[str, Any] | None:
        """The SDK's payload (`{"data": item}`), or None when it built none (SDK not configured)."""
        capture = _Capture()
        token = _capture.set(capture)
        try:
            rollbar.report_exc_info(
                (type(self.error), self.error, self.error.__traceback__),
                request=Request(self.scope),
                extra_data=self.extra_data,
                payload_data=self.payload_data,
            )
        finally:
            _capture.reset(token)
        return capture.payload


@dataclass
class _Capture:
    payload: dict[str, Any] | None = None


# Where `Report.payload` in progress wants the payload: the SDK calls the payload handler inside it.
_capture: ContextVar[_Capture | None] = ContextVar("cruddur_rollbar_capture", default=None)
_lock = threading.Lock()
_configured: dict[str, bool] = {}  # the process's SDK options once `init_once` ran
_unrouted = 0


def init_once(
    access_token: str,
    *,
    environment: str,
    code_version: str,
    endpoint: str,
    timeout: float,
    capture_locals: bool,
) -> None:
    """Configure the SDK for this process on the first call; later calls only warn if they differ.

    Args:
        access_token: the first app's token (each app's sender posts with its own).
        environment: the default `environment` (each item carries its app's).
        code_version: the default `code_version` (each item carries its app's).
        endpoint: the API base, as the SDK's settings say it (each sender posts to its own).
        timeout: seconds per delivery.
        capture_locals: local variables of the failing frames in each item (costs CPU per error).
    """
    with _lock:
        if _configured:
            if _configured["capture_locals"] != capture_locals:
                log.warning("ROLLBAR_CAPTURE_LOCALS is per process: the first app's setting stays")
            return
        rollbar.init(
            access_token,
            environment,
            handler="blocking",
            endpoint=endpoint.rstrip("/") + "/",
            timeout=max(1, math.ceil(timeout)),
            code_version=code_version,
            root=PROJECT_ROOT,
            locals={"enabled": capture_locals},
            allow_logging_basic_config=False,
            batch_transforms=True,  # one walk of the item for all transforms: about a fifth less CPU
            custom_transforms=[RedactionPolicy()],
        )
        events.add_payload_handler(_take_payload)  # after init, which resets the handlers
        _configured["capture_locals"] = capture_locals


def _take_payload(payload: dict[str, Any], **_: Any) -> Literal[False]:
    """The SDK's last step before sending: hand the payload to `Report.payload`, never send it here."""
    global _unrouted
    payload.pop("access_token", None)  # the first app's; the sender sends its own in the header
    capture = _capture.get()
    if capture is None:
        _unrouted += 1
        if _unrouted == 1 or _unrouted % 100 == 0:
            log.warning("Rollbar item reported outside the error middleware: %d dropped so far", _unrouted)
        return False
    capture.payload = payload
    return False
