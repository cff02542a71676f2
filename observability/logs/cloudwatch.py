"""Log lines to CloudWatch Logs through watchtower, without ever blocking or growing without bound.

watchtower alone would not do: its constructor raises when CloudWatch is unreachable, its queue is
unbounded and it sends every 60 s by default. So `CloudWatchHandler.emit` only formats the line and
appends it to a bounded buffer (dropping and counting when full); one background thread builds the
boto3 client and the watchtower handler (retrying with backoff while CloudWatch is unreachable) and
feeds it, in bursts every `FORWARD_EVERY` seconds, no faster than it sends. Every line of every
request passes here, so the path is kept short: a deque, not a `queue.Queue` (no condition to take
and notify per line), one record reused for every line handed to watchtower (its `emit` keeps only
the text and the time), watchtower's backlog checked once a burst, and no client-side validation
of the events watchtower builds itself. Records of botocore, urllib3,
watchtower and warnings, and anything logged from the shipping threads, never feed the handler: that
is the `patch_all()` feedback loop.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

_IGNORED_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "watchtower", "aws_xray_sdk", "py.warnings")
FORWARD_EVERY = 0.25  # seconds between bursts of lines handed to watchtower (which sends every 5 s)


class CloudWatchHandler(logging.Handler):
    """A logging handler that ships formatted lines to one CloudWatch Logs stream in the background.

    Args:
        log_group: created if missing.
        log_stream: one per service and host.
        region: `AWS_REGION`.
        endpoint_url: a local emulator (moto) in tests; None for AWS.
        send_interval: seconds between batches.
        queue_size: lines buffered at most while CloudWatch is slow or down.
        retry_max: the longest pause between attempts to reach CloudWatch.
        retention_days: set on the log group once reached (events older are deleted); None leaves it.
    """

    def __init__(
        self,
        *,
        log_group: str,
        log_stream: str,
        region: str,
        endpoint_url: str | None = None,
        send_interval: float = 5.0,
        queue_size: int = 10_000,
        retry_max: float = 30.0,
        retention_days: int | None = 3,
    ) -> None:
        super().__init__()
        self.log_group, self.log_stream = log_group, log_stream
        self.region, self.endpoint_url = region, endpoint_url
        self.send_interval, self.retry_max = send_interval, retry_max
        self.retention_days = retention_days
        self.dropped = 0
        self._reported_dropped = 0
        self.queue_size = queue_size
        self._lines: deque[tuple[str, float]] = deque()  # appends and pops are atomic; bounded in emit
        self._target: Any = None  # the watchtower handler, once CloudWatch answered
        self._record = logging.makeLogRecord({"name": __name__, "msg": "", "args": None})
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cloudwatch-shipper", daemon=True)

    def start(self) -> None:
        """Start the shipping thread; returns at once, CloudWatch is reached in the background."""
        self._thread.start()

    def filter(self, record: logging.LogRecord) -> bool:
        thread = threading.current_thread().name
        # watchtower's sender threads are named `Thread-N (_dequeue_batch)`.
        if (
            record.name.startswith(_IGNORED_LOGGERS)
            or thread == self._thread.name
            or "_dequeue_batch" in thread
        ):
            return False
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            if len(self._lines) >= self.queue_size:
                self.dropped += 1  # emit runs under the handler's lock; only the counter grows
                return
            self._lines.append((line, record.created))
        except Exception:
            self.handleError(record)

    @property
    def queued(self) -> int:
        """Lines waiting to be handed to watchtower."""
        return len(self._lines)

    @property
    def connected(self) -> bool:
        return self._target is not None

    def _connect(self) -> Any:
        import boto3
        import watchtower
        from botocore.config import Config

        client = boto3.session.Session().client(
            "logs",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            # watchtower builds every event itself (an int timestamp, a str message): botocore checking
            # each one again, batch after batch, was a third of the shipping threads' CPU.
            config=Config(
                connect_timeout=2,
                read_timeout=3,
                retries={"total_max_attempts": 1},
                parameter_validation=False,
            ),
        )
        target = watchtower.CloudWatchLogHandler(
            log_group_name=self.log_group,
            log_stream_name=self.log_stream.replace("{", "{{").replace("}", "}}"),
            boto3_client=client,
            send_interval=self.send_interval,  # type: ignore[arg-type]  # a float works: time.time() + it
            create_log_group=True,
        )
        target.FLUSH_TIMEOUT = 3  # bounds flush/close (and logging.shutdown at exit) when CloudWatch hangs
        target.setFormatter(logging.Formatter("%(message)s"))
        self._set_retention(client)
        return target

    def _set_retention(self, client: Any) -> None:
        # Without a retention policy a log group keeps (and bills) every event forever. Put on every
        # connect, so the group holds the configured value; a refusal (no logs:PutRetentionPolicy)
        # costs only the policy, never the shipping.
        if self.retention_days is None:
            return
        try:
            client.put_retention_policy(logGroupName=self.log_group, retentionInDays=self.retention_days)
        except Exception as exc:
            log.warning(
                "could not set %d days' retention on %s: %s", self.retention_days, self.log_group, exc
            )

    def _run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            if self._target is None:
                try:
                    self._target = self._connect()
                    log.info("shipping logs to CloudWatch %s %s", self.log_group, self.log_stream)
                    backoff = 1.0
                except Exception as exc:
                    reason = type(exc).__name__
                    log.warning("CloudWatch Logs unreachable (%s): retrying in %.0fs", reason, backoff)
                    self._report_dropped()
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, self.retry_max)
                    continue
            # Lines are forwarded in bursts: a wake-up per line (a futex and a GIL hand-over each,
            # three lines a request over the chain) cost more than the shipping itself.
            self._stopping.wait(FORWARD_EVERY)
            self._forward()
            self._report_dropped()
        self._drain()

    def _forward(self) -> None:
        """Hand the buffered lines to watchtower, never more than `queue_size` waiting in its queue.

        watchtower's own queue is unbounded: while it holds a full batch (CloudWatch slow), lines
        stay in this handler's bounded buffer, where new ones are dropped and counted.
        """
        record = self._record
        while self._lines:
            room = self.queue_size - self._pending()
            if room <= 0:
                if self._stopping.wait(0.05):
                    return
                continue
            for _ in range(min(room, len(self._lines))):
                # One record for every line: watchtower's emit keeps only its text and its time.
                record.msg, record.created = self._lines.popleft()
                self._target.emit(record)

    def _pending(self) -> int:
        queues = getattr(self._target, "queues", {}) or {}
        return sum(q.qsize() for q in queues.values())

    def _report_dropped(self) -> None:
        if self.dropped != self._reported_dropped:
            self._reported_dropped = self.dropped
            log.warning(
                "CloudWatch queue full: %d log lines dropped so far (kept on stdout)",
                self.dropped,
                extra={"cloudwatch_dropped": self.dropped},
            )

    def _drain(self) -> None:
        if self._target is None:
            return
        record = self._record
        while self._lines:
            record.msg, record.created = self._lines.popleft()
            self._target.emit(record)
        self._target.close()

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is queued and stop, waiting at most `timeout` seconds; never raises."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._report_dropped()
        super().close()
