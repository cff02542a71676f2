"""Log shipping and Rollbar delivery never block the caller and never hold more than their bound."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from observability.logs.cloudwatch import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_EVENT_BYTES, CloudWatchHandler
from observability.logs.settings import LogsSettings
from observability.rollbar import sender as sender_mod
from observability.rollbar.reporter import ErrorReporter
from observability.rollbar.sdk import Report
from observability.rollbar.sender import Budget, RateLimiter, RollbarSender
from tests.e2e.harness import free_port
from tests.standins.cloudwatch import CloudWatchStandIn


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
    assert cloudwatch.queued == 5 and cloudwatch.dropped == 45


def test_cloudwatch_ignores_botocore_and_its_own_thread() -> None:
    """Records of botocore, urllib3, watchtower and the shipping thread never feed the handler back."""
    cloudwatch = handler()
    for name in ("botocore.endpoint", "urllib3.connectionpool", "watchtower", "py.warnings"):
        cloudwatch.handle(record(name))
    from_shipper = threading.Thread(target=cloudwatch.handle, args=(record(),), name=cloudwatch._thread.name)
    from_shipper.start()
    from_shipper.join()
    assert cloudwatch.queued == 0
    cloudwatch.handle(record("services.users"))
    assert cloudwatch.queued == 1


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


@dataclass(frozen=True)
class Job:
    """A captured error as the sender sees it: its payload is built only when it is sent."""

    uuid: str

    def payload(self) -> dict[str, Any]:
        raise AssertionError("nothing is built while the sender is not running")


def test_rollbar_queue_is_bounded_and_drops_are_counted() -> None:
    """Items beyond the queue size are dropped and counted, and submitting never blocks nor builds."""
    sender = RollbarSender("http://127.0.0.1:1/api/1", "token", queue_size=3)
    started = time.monotonic()
    accepted = [sender.submit(Job(str(n))) for n in range(10)]
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


def test_budget_caps_all_fingerprints_together_per_window() -> None:
    """The budget lets `limit` items through per window whatever their fingerprint, then none until the
    next window."""
    now = [0.0]
    budget = Budget(2, 3600.0, clock=lambda: now[0])
    assert [budget.allow() for _ in range(3)] == [True, True, False]
    now[0] = 3599.0
    assert not budget.allow()
    now[0] = 3600.0
    assert budget.allow()


class Recording(RollbarSender):
    """A sender that keeps what it is given instead of posting it."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1/api/1", "token")
        self.items: list[Report] = []

    def submit(self, job: sender_mod.Job) -> bool:
        assert isinstance(job, Report)
        self.items.append(job)
        return True


def test_reporter_sends_distinct_errors_only_within_the_hourly_budget() -> None:
    """Five distinct errors (five fingerprints, each under its rate limit) make as many items as the
    service's hourly budget allows, and the rest are counted as not sent."""
    sender = Recording()
    reporter = ErrorReporter(
        sender,
        service="users",
        environment="test",
        code_version="1",
        limiter=RateLimiter(10, 60.0),
        budget=Budget(2),
    )
    errors: list[BaseException] = [type(f"Error{n}", (Exception,), {})() for n in range(5)]
    sent = [reporter.report(error, {"type": "http", "path": "/x", "headers": []}) for error in errors]
    assert len(sender.items) == 2 and len({item.payload_data["fingerprint"] for item in sender.items}) == 2
    assert sent[2:] == [None, None, None] and reporter.rate_limited == 3


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudWatchStandIn]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    standin = CloudWatchStandIn(free_port()).start()
    yield standin
    standin.stop()


def shipping_to(moto: CloudWatchStandIn, group: str, **options: Any) -> CloudWatchHandler:
    """A started handler shipping to `group` (stream `users/host`) on the moto stand-in."""
    cloudwatch = CloudWatchHandler(
        log_group=group, log_stream="users/host", region="us-east-1", endpoint_url=moto.endpoint, **options
    )
    cloudwatch.start()
    return cloudwatch


def test_cloudwatch_log_group_gets_the_retention_policy(moto: CloudWatchStandIn) -> None:
    """The log group the handler creates keeps events for `retention_days`, not forever."""
    group = f"/cruddur/retention-{free_port()}"
    cloudwatch = shipping_to(moto, group, retention_days=5)
    try:
        deadline = time.monotonic() + 10
        while not cloudwatch.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        [found] = moto.client().describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert found.get("retentionInDays") == 5
    finally:
        cloudwatch.close(timeout=3)


def test_cloudwatch_retention_must_be_a_value_cloudwatch_accepts() -> None:
    """A retention CloudWatch would refuse (4 days) stops start-up; the default is a few days."""
    with pytest.raises(ValidationError, match="retention periods"):
        LogsSettings(cloudwatch_retention_days=4)
    assert LogsSettings().cloudwatch_retention_days in (1, 3, 5, 7)


def test_cloudwatch_events_keep_each_line_and_its_time(moto: CloudWatchStandIn) -> None:
    """Every line reaches CloudWatch once, in order, with its own text and its record's time."""
    group = f"/cruddur/lines-{free_port()}"
    cloudwatch = shipping_to(moto, group, send_interval=0.2)
    started = time.time() - 60
    for n in range(30):
        line = logging.LogRecord("app", logging.INFO, __file__, 1, "line %d", (n,), None)
        line.created = started + n
        cloudwatch.handle(line)
    cloudwatch.close(timeout=10)
    events = moto.client().get_log_events(logGroupName=group, logStreamName="users/host", startFromHead=True)
    assert [(e["message"], e["timestamp"]) for e in events["events"]] == [
        (f"line {n}", int((started + n) * 1000)) for n in range(30)
    ]


def test_cloudwatch_batches_keep_to_put_log_events_limits() -> None:
    """Lines go out in batches within CloudWatch's limits (bytes with each event's 26, counted in UTF-8;
    an oversized line cut to 256 KiB), in order, and none is left behind."""
    cloudwatch = handler(queue_size=100)
    lines = [f"{n:02d}" + ("é" if n % 2 else "e") * 300_000 for n in range(7)] + ["short"] * 3
    for line in lines:
        cloudwatch.handle(logging.LogRecord("app", logging.INFO, __file__, 1, line, None, None))
    batches = []
    while cloudwatch.queued:
        batches.append(cloudwatch._batch(cloudwatch.queued))
    sent = [event["message"] for batch in batches for event in batch]
    assert len(sent) == len(lines)
    assert all(line.startswith(message[:100]) for line, message in zip(lines, sent, strict=True))
    for batch in batches:
        sizes = [len(event["message"].encode()) + EVENT_OVERHEAD for event in batch]
        assert sum(sizes) <= MAX_BATCH_BYTES and max(sizes) <= MAX_EVENT_BYTES
    assert [len(batch) for batch in batches] == [4, 6]  # four cut lines fill a batch to the byte


def counting_batches(
    moto: CloudWatchStandIn, group: str, **options: Any
) -> tuple[CloudWatchHandler, list[int]]:
    """A handler shipping to `group` once connected, and the size of each batch it sends from then on."""
    cloudwatch = shipping_to(moto, group, **options)
    deadline = time.monotonic() + 10
    while not cloudwatch.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    sent: list[int] = []
    submit = cloudwatch._target._submit_batch

    def counted(batch: list[dict[str, Any]], stream: str) -> None:
        sent.append(len(batch))
        submit(batch, stream)

    cloudwatch._target._submit_batch = counted
    return cloudwatch, sent


def test_cloudwatch_hands_watchtower_whole_batches(moto: CloudWatchStandIn) -> None:
    """A burst of lines reaches CloudWatch in order, in a batch or two, none through watchtower's queue."""
    group = f"/cruddur/batches-{free_port()}"
    cloudwatch, sent = counting_batches(moto, group, send_interval=0.2)
    for n in range(2_000):
        cloudwatch.handle(logging.LogRecord("app", logging.INFO, __file__, 1, "line %d", (n,), None))
    cloudwatch.close(timeout=10)
    events = moto.client().get_log_events(logGroupName=group, logStreamName="users/host", startFromHead=True)
    assert [e["message"] for e in events["events"]] == [f"line {n}" for n in range(2_000)]
    assert sum(sent) == 2_000 and len(sent) <= 3
    assert not cloudwatch._target.queues and not cloudwatch._target.threads  # no queue, no thread a line


def test_cloudwatch_sends_at_its_interval_or_once_half_the_buffer_fills(moto: CloudWatchStandIn) -> None:
    """Lines wait for the send interval, unless half the buffer fills first: then they go at once."""
    group = f"/cruddur/half-{free_port()}"
    cloudwatch, sent = counting_batches(moto, group, send_interval=60, queue_size=20)
    for _ in range(9):
        cloudwatch.handle(record())
    time.sleep(0.5)
    assert sent == []
    cloudwatch.handle(record())
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sent == [10]
    cloudwatch.close(timeout=5)
