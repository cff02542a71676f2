"""Delivery of Rollbar items: a bounded queue, one sender thread, a rate limit per fingerprint, a budget.

The `rollbar` SDK builds the payloads (`observability.rollbar.sdk`); what it lacks is a bound. Its
`blocking` handler would post from the event loop, `thread` starts a thread per item (unbounded when
Rollbar hangs), `thread_pool` queues without limit and `httpx`/`async` are fire-and-forget tasks.
Here `submit` only enqueues a captured error, a full queue drops and counts, and one thread has the
SDK build each payload (milliseconds of CPU, kept off the event loop) and posts it with the SDK's
transport (`rollbar.lib.transport`, a pooled `requests` session) to this app's endpoint with this
app's token: the SDK's own send reads one endpoint for the whole process.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from rollbar.lib import defaultJSONEncode, transport

log = logging.getLogger(__name__)

_STOP = object()


class Job(Protocol):
    """A captured error whose payload is built on the sender's thread (`sdk.Report`)."""

    @property
    def uuid(self) -> str: ...

    def payload(self) -> dict[str, Any] | None: ...


class RateLimiter:
    """At most `limit` items per fingerprint per `window` seconds; remembers `max_keys` fingerprints.

    Args:
        limit: items allowed per window (0 turns reporting off).
        window: seconds.
        clock: a monotonic clock, for tests.
        max_keys: fingerprints remembered at most (oldest forgotten first), to bound memory.
    """

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 1_000
    ) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, fingerprint: str) -> bool:
        """Whether one more item of this fingerprint may be sent now (and count it if so)."""
        now = self.clock()
        with self._lock:
            start, count = self._seen.pop(fingerprint, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            allowed = count < self.limit
            self._seen[fingerprint] = (start, count + 1 if allowed else count)
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            return allowed


class Budget:
    """At most `limit` items in all per `window` seconds (an hour by default), whatever their fingerprint.

    The per-fingerprint limit stops one hot loop; this stops many distinct errors from spending a
    monthly quota (Rollbar's free tier: 5,000 events a month) in a few hours.

    Args:
        limit: items allowed per window (0 sends none).
        window: seconds.
        clock: a monotonic clock, for tests.
    """

    def __init__(self, limit: int, window: float = 3600.0, *, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._start: float | None = None
        self._used = 0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Whether one more item may be sent in this window (and count it if so)."""
        now = self.clock()
        with self._lock:
            if self._start is None or now - self._start >= self.window:
                self._start, self._used = now, 0
            if self._used >= self.limit:
                return False
            self._used += 1
            return True


class RollbarSender:
    """Builds (with the SDK) and posts items to Rollbar's item API from one background thread.

    Args:
        endpoint: the API base (`https://api.rollbar.com/api/1`); items go to `<endpoint>/item/`.
        access_token: a `post_server_item` token.
        queue_size: items waiting at most; more are dropped and counted.
        timeout: seconds per delivery.
    """

    def __init__(self, endpoint: str, access_token: str, *, queue_size: int = 100, timeout: float = 5.0):
        self.url = f"{endpoint.rstrip('/')}/item/"
        self._headers = {"Content-Type": "application/json", "X-Rollbar-Access-Token": access_token}
        self.timeout = timeout
        self.dropped = 0
        self.sent = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="rollbar-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job) -> bool:
        """Queue one error to report; False (and counted) when the queue is full. Never blocks."""
        try:
            self._queue.put_nowait(job)
            return True
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:  # a hot loop must not flood the logs either
                log.warning("Rollbar queue full: %d items dropped so far", self.dropped)
            return False

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            self._deliver(job)

    def _deliver(self, job: Job) -> None:
        item_uuid = job.uuid
        try:
            payload = job.payload()
        except Exception:
            log.warning("Rollbar item %s could not be built", item_uuid, exc_info=True)
            return
        if payload is None:
            log.warning("Rollbar item %s not built (is the SDK configured?)", item_uuid)
            return
        try:
            body = json.dumps(payload, default=defaultJSONEncode)
            response = transport.post(  # type: ignore[no-untyped-call]
                self.url, data=body, headers=self._headers, timeout=self.timeout
            )
        except Exception as exc:
            log.warning("Rollbar unreachable, item %s lost: %s", item_uuid, type(exc).__name__)
            return
        if response.status_code == 200:
            self.sent += 1
        elif response.status_code == 429:
            log.warning("Rollbar rate limit (HTTP 429): item %s dropped", item_uuid)
        else:
            log.warning("Rollbar refused item %s: HTTP %d", item_uuid, response.status_code)

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued, waiting at most `timeout` seconds; never raises."""
        if not self._thread.is_alive():
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join(max(0.0, deadline - time.monotonic()))
