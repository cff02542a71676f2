"""Log lines to CloudWatch Logs through watchtower, without ever blocking or growing without bound.

watchtower alone would not do: its constructor raises when CloudWatch is unreachable, its queue is
unbounded and it sends every 60 s by default. So `CloudWatchHandler.emit` only formats the line and
appends it to a bounded buffer (dropping and counting when full), and one background thread builds
the boto3 client and the watchtower handler (retrying with backoff while CloudWatch is unreachable)
and hands watchtower whole batches to send: every `send_interval` seconds, or sooner once half the
buffer is full. watchtower still sends each batch (sorted, the log stream created when missing,
retried); what it no longer does is queue every line to a thread of its own: a lock, a wake-up and a
GIL hand-over per line (11.5 against 7.0 us a line in all, docs/performance.md). Every line of
every request passes here, so the path is kept short: a deque, not a `queue.Queue`, and no
client-side validation of the events built here. Records of botocore, urllib3, watchtower and
warnings, and anything logged from the shipping thread, never feed the handler: that is the
`patch_all()` feedback loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

_IGNORED_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "watchtower", "aws_xray_sdk", "py.warnings")
# CloudWatch's PutLogEvents limits (its API reference), which watchtower also applies: events and
# bytes a batch (each event counts 26 bytes beyond its message), and the largest event.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 262_144


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
        self._half = max(1, queue_size // 2)  # lines that make a send start before its interval
        self._stopping = threading.Event()
        self._wake = threading.Event()  # a send is due now: half the buffer full, or closing
        self._thread = threading.Thread(target=self._run, name="cloudwatch-shipper", daemon=True)

    def start(self) -> None:
        """Start the shipping thread; returns at once, CloudWatch is reached in the background."""
        self._thread.start()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_IGNORED_LOGGERS) or threading.current_thread().name == self._thread.name:
            return False
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            queued = len(self._lines)
            if queued >= self.queue_size:
                self.dropped += 1  # emit runs under the handler's lock; only the counter grows
                return
            self._lines.append((line, record.created))
            if queued + 1 == self._half:
                self._wake.set()  # once a crossing: the thread sleeps until then, not in short naps
        except Exception:
            self.handleError(record)

    @property
    def queued(self) -> int:
        """Lines waiting to be sent."""
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
        # Only its batch sender is used (`_send`): no queue, no thread of its own.
        target = watchtower.CloudWatchLogHandler(
            log_group_name=self.log_group,
            log_stream_name=self.log_stream.replace("{", "{{").replace("}", "}}"),
            boto3_client=client,
            use_queues=False,
            create_log_group=True,
        )
        target.sequence_tokens[self.log_stream] = None
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
        deadline = time.monotonic() + self.send_interval
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
            self._wake.wait(max(0.0, deadline - time.monotonic()))
            self._wake.clear()
            deadline = time.monotonic() + self.send_interval
            self._send()
            self._report_dropped()
        if self._target is not None:
            self._send()
            self._target.close()

    def _send(self) -> None:
        """Send the lines buffered now, in batches within CloudWatch's limits (lines logged meanwhile
        wait for the next round)."""
        left = len(self._lines)
        while left > 0:
            batch = self._batch(left)
            left -= len(batch)
            try:
                self._target._submit_batch(batch, self.log_stream)  # watchtower's sender: sorted, retried
            except Exception:  # the shipping thread must survive anything CloudWatch does
                log.warning("CloudWatch Logs: a batch of %d lines was not sent", len(batch), exc_info=True)

    def _batch(self, most: int) -> list[dict[str, Any]]:
        """The `most` oldest buffered lines as PutLogEvents events, or fewer: at most a batch's worth."""
        batch: list[dict[str, Any]] = []
        room = MAX_BATCH_BYTES
        lines = self._lines
        most = min(most, MAX_BATCH_EVENTS)
        while lines and len(batch) < most:
            line, created = lines[0]
            size = (len(line) if line.isascii() else len(line.encode())) + EVENT_OVERHEAD
            if size > MAX_EVENT_BYTES:  # CloudWatch refuses it whole: keep its start
                line = line.encode()[: MAX_EVENT_BYTES - EVENT_OVERHEAD].decode(errors="ignore")
                size = MAX_EVENT_BYTES
            if size > room:
                break
            lines.popleft()
            room -= size
            batch.append({"timestamp": int(created * 1000), "message": line})
        return batch

    def _report_dropped(self) -> None:
        if self.dropped != self._reported_dropped:
            self._reported_dropped = self.dropped
            log.warning(
                "CloudWatch queue full: %d log lines dropped so far (kept on stdout)",
                self.dropped,
                extra={"cloudwatch_dropped": self.dropped},
            )

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is queued and stop, waiting at most `timeout` seconds; never raises."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._report_dropped()
        super().close()
