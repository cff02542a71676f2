"""One protobuf encoding for every OTLP destination: the batch is encoded once, each sender posts the bytes.

Encoding OTLP protobuf in Python costs more than sending it (`observability.otel.encoding` writes the
bytes at a fraction of OpenTelemetry's encoder's cost). With X-Ray on in process
(`XRAY_EXPORTER=otlp`) the same spans go to two OTLP endpoints; two exporters each encoded every
batch. Here one batch processor hands each batch to `FanOutExporter`, which encodes it once and
offers the bytes to one `Destination` per endpoint (one, without X-Ray). Each destination keeps its
own bounded queue and thread, so one endpoint that is slow or down delays and drops only its own
batches (as two batch processors did), and every request keeps its own exporter's gzip, headers,
retries and signing (the X-Ray session signs the exact compressed body). A gzip endpoint gets its
body at level 1: OpenTelemetry's client compresses at level 9, four to five times the CPU a batch for
a body about a tenth larger (docs/performance.md).
"""

from __future__ import annotations

import gzip
import logging
import queue
import threading
import time
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from observability.otel.encoding import encode

log = logging.getLogger(__name__)

_STOP = b""  # never an encoded batch: an empty request encodes to no bytes and is never queued


class Destination:
    """One OTLP endpoint: a bounded queue of encoded batches, posted in order by a thread of its own.

    Args:
        name: for log lines (`otlp`, `xray`).
        exporter: the endpoint's OTLP/HTTP exporter: its client posts the bytes (compression, at level
            1 when gzip, headers, retries, session and its auth), its encoder is never used.
        max_batches: batches held at most while the endpoint is slow; beyond it a batch is dropped.
    """

    def __init__(self, name: str, exporter: OTLPSpanExporter, *, max_batches: int = 8) -> None:
        self.name = name
        self.exporter = exporter
        client = exporter._client
        if getattr(client._compression, "value", None) == "gzip":
            client._compress = _gzip_fast  # type: ignore[method-assign,assignment]  # its own is level 9
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=max_batches)
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"otlp-{name}", daemon=True)
        self._thread.start()

    def offer(self, data: bytes) -> bool:
        """Queue one encoded batch; False (and the batch dropped) when the queue is full."""
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 100 == 0:
                log.warning("OTLP %s: endpoint behind, %d batch(es) dropped so far", self.name, self._dropped)
            return False
        return True

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            try:
                if data == _STOP:
                    return
                result = self.exporter._client.export(data)  # the exporter's own post, retries included
                if not result.success:
                    log.debug("OTLP %s: export failed: %s", self.name, result.error)
            except Exception:  # an exporting thread must survive anything the endpoint does
                log.warning("OTLP %s: export raised", self.name, exc_info=True)
            finally:
                self._queue.task_done()

    def wait_idle(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until every queued batch was posted."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, max(0.0, timeout))

    def close(self, timeout: float) -> None:
        """Post what is queued (within `timeout` seconds), then stop the thread and the exporter."""
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(_STOP, timeout=max(0.0, timeout))
        except queue.Full:
            log.warning("OTLP %s: %d batch(es) not sent at shutdown", self.name, self._queue.qsize())
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self.exporter.shutdown()  # type: ignore[no-untyped-call]


def _gzip_fast(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1, mtime=0)


class FanOutExporter(SpanExporter):
    """Encodes each batch once and offers the bytes to every destination (see the module docstring).

    Args:
        destinations: where every batch goes.
    """

    def __init__(self, destinations: Sequence[Destination]) -> None:
        self.destinations = list(destinations)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            data = encode(spans)
        except Exception:
            log.warning("OTLP: encoding a batch of %d spans failed", len(spans), exc_info=True)
            return SpanExportResult.FAILURE
        if not data:
            return SpanExportResult.SUCCESS
        offered = [destination.offer(data) for destination in self.destinations]
        return SpanExportResult.SUCCESS if all(offered) else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        return all(d.wait_idle(deadline - time.monotonic()) for d in self.destinations)

    def shutdown(self, timeout_millis: int = 30_000) -> None:
        deadline = time.monotonic() + timeout_millis / 1000
        for destination in self.destinations:
            destination.close(deadline - time.monotonic())


class FanOutProcessor(BatchSpanProcessor):
    """A batch processor whose flush also waits for every destination to post what it was handed."""

    def __init__(
        self,
        exporter: FanOutExporter,
        *,
        schedule_delay_millis: int,
        max_queue_size: int,
        max_export_batch_size: int,
    ) -> None:
        super().__init__(
            exporter,
            schedule_delay_millis=schedule_delay_millis,
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
        )
        self.fanout = exporter

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        deadline = time.monotonic() + (timeout_millis if timeout_millis is not None else 30_000) / 1000
        flushed = super().force_flush(timeout_millis)
        return flushed and self.fanout.force_flush(int(max(0.0, deadline - time.monotonic()) * 1000))
