"""Delivery of Rollbar items: a bounded queue, one sender thread, and a rate limit per fingerprint.

Posting from the request would delay the response by Rollbar's latency, and rollbar's own `thread`
handler starts one thread per item (unbounded when Rollbar hangs). Here `submit` only enqueues;
a full queue drops and counts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import httpx

log = logging.getLogger(__name__)

_STOP = object()


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


class RollbarSender:
    """Posts items to Rollbar's item API from one background thread.

    Args:
        endpoint: the API base (`https://api.rollbar.com/api/1`); items go to `<endpoint>/item/`.
        access_token: a `post_server_item` token.
        queue_size: items waiting at most; more are dropped and counted.
        timeout: seconds per delivery.
    """

    def __init__(self, endpoint: str, access_token: str, *, queue_size: int = 100, timeout: float = 5.0):
        self.url = f"{endpoint}/item/"
        self._token = access_token
        self.timeout = timeout
        self.dropped = 0
        self.sent = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="rollbar-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, data: dict[str, Any]) -> bool:
        """Queue one item's `data`; False (and counted) when the queue is full. Never blocks."""
        try:
            self._queue.put_nowait(data)
            return True
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:  # a hot loop must not flood the logs either
                log.warning("Rollbar queue full: %d items dropped so far", self.dropped)
            return False

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, headers={"X-Rollbar-Access-Token": self._token}) as http:
            while True:
                data = self._queue.get()
                if data is _STOP:
                    return
                self._post(http, data)

    def _post(self, http: httpx.Client, data: dict[str, Any]) -> None:
        try:
            response = http.post(self.url, json={"data": data})
            if response.is_success:
                self.sent += 1
            else:
                log.warning("Rollbar refused item %s: HTTP %d", data.get("uuid"), response.status_code)
        except Exception as exc:
            log.warning("Rollbar unreachable, item %s lost: %s", data.get("uuid"), type(exc).__name__)

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
