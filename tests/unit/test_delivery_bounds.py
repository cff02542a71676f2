"""Log shipping and Rollbar delivery never block the caller and never hold more than their bound."""

from __future__ import annotations

import logging
import threading
import time

from observability.logs.cloudwatch import CloudWatchHandler
from observability.rollbar.sender import RateLimiter, RollbarSender
from tests.e2e.harness import free_port


def handler(queue_size: int = 5, port: int | None = None) -> CloudWatchHandler:
    return CloudWatchHandler(
        log_group="/g",
        log_stream="test/host",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port or free_port()}",
        queue_size=queue_size,
        retry_max=0.2,
    )


def record(name: str = "app") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, "line", None, None)


def test_cloudwatch_queue_is_bounded_and_drops_are_counted() -> None:
    """With nothing shipping, the handler keeps `queue_size` lines and counts the rest as dropped."""
    cloudwatch = handler(queue_size=5)
    started = time.monotonic()
    for _ in range(50):
        cloudwatch.handle(record())
    assert time.monotonic() - started < 0.5
    assert cloudwatch._queue.qsize() == 5 and cloudwatch.dropped == 45


def test_cloudwatch_ignores_botocore_and_its_own_thread() -> None:
    """Records of botocore, urllib3, watchtower and the shipping thread never feed the handler back."""
    cloudwatch = handler()
    for name in ("botocore.endpoint", "urllib3.connectionpool", "watchtower", "py.warnings"):
        cloudwatch.handle(record(name))
    from_shipper = threading.Thread(target=cloudwatch.handle, args=(record(),), name=cloudwatch._thread.name)
    from_shipper.start()
    from_shipper.join()
    assert cloudwatch._queue.qsize() == 0
    cloudwatch.handle(record("services.users"))
    assert cloudwatch._queue.qsize() == 1


def test_unreachable_cloudwatch_neither_delays_start_nor_close() -> None:
    """With CloudWatch down, start returns at once and close returns within its timeout."""
    cloudwatch = handler(port=free_port())
    started = time.monotonic()
    cloudwatch.start()
    cloudwatch.handle(record())
    assert time.monotonic() - started < 0.2
    time.sleep(0.5)  # a few failed attempts to connect
    assert not cloudwatch.connected
    started = time.monotonic()
    cloudwatch.close(timeout=5)
    assert time.monotonic() - started < 5.5


def test_rollbar_queue_is_bounded_and_drops_are_counted() -> None:
    """Items beyond the queue size are dropped and counted, and submitting never blocks."""
    sender = RollbarSender("http://127.0.0.1:1/api/1", "token", queue_size=3)
    started = time.monotonic()
    accepted = [sender.submit({"uuid": str(n)}) for n in range(10)]
    assert time.monotonic() - started < 0.5
    assert accepted == [True] * 3 + [False] * 7 and sender.dropped == 7


def test_rate_limit_is_per_fingerprint_and_per_window() -> None:
    """At most `limit` items per fingerprint per window; another fingerprint and the next window pass."""
    now = [0.0]
    limiter = RateLimiter(2, 60.0, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, False, False]
    assert limiter.allow("b")
    now[0] = 61.0
    assert limiter.allow("a")


def test_rate_limiter_remembers_a_bounded_number_of_fingerprints() -> None:
    """A flood of distinct errors cannot grow the limiter's memory past `max_keys`."""
    limiter = RateLimiter(1, 60.0, max_keys=10)
    for n in range(1_000):
        limiter.allow(str(n))
    assert len(limiter._seen) == 10
