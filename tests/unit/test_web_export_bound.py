"""The page's exports fit the relay's bound: web/src/bounded-exporter.js, run by Node on real SDK spans.

Skipped (saying why) without Node or without web/node_modules (`make web` installs them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
NODE = shutil.which("node")

# 128 spans of about 1.7 KB of OTLP/JSON each (a long URL, nine events: a fetch span's resource
# timings), one batch of the page's BatchSpanProcessor, about 215 KB in one export; then the same with
# a span that cannot fit alone. The inner exporter records what it is asked to send.
SCRIPT = """
import {
  BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ExportResultCode } from '@opentelemetry/core';
import { BoundedExporter, exportSize } from './src/bounded-exporter.js';

const max = Number(process.argv[1]);
const memory = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
for (let i = 0; i < 128; i++) {
  const url = `http://gw/${'x'.repeat(400)}/${i}`;
  const span = tracer.startSpan(`fetch ${i}`, { attributes: { 'http.url': url } });
  for (let e = 0; e < 9; e++) span.addEvent(`timing ${e}`);
  span.end();
}
tracer.startSpan('huge', { attributes: { big: 'y'.repeat(max) } }).end();
const spans = memory.getFinishedSpans();
const batch = spans.slice(0, 128);
const sent = [];
const inner = {
  export: (part, done) => { sent.push(part); setTimeout(() => done({ code: ExportResultCode.SUCCESS }), 0); },
  shutdown: async () => {},
};
const report = (part) => ({ bytes: exportSize(part), names: part.map((span) => span.name) });
new BoundedExporter(inner, max).export(batch, (first) => {
  const batchParts = sent.splice(0).map(report);
  new BoundedExporter(inner, max).export(spans, (second) => {
    console.log(JSON.stringify({
      batch: { bytes: exportSize(batch), names: batch.map((span) => span.name) },
      batchParts, batchCode: first.code,
      withHuge: sent.map(report), withHugeCode: second.code, withHugeError: String(second.error),
    }));
  });
});
"""


def run(max_bytes: int) -> dict[str, Any]:
    if NODE is None or not (WEB / "node_modules" / "@opentelemetry" / "otlp-transformer").is_dir():
        pytest.skip("needs Node and web/node_modules: `make web`")
    result = subprocess.run(
        [NODE, "--no-warnings", "--input-type=module", "-e", SCRIPT, str(max_bytes)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(result.stdout))


def test_a_batch_over_the_bound_is_sent_in_parts_that_fit_in_order() -> None:
    """A 128-span batch larger than 64 KiB goes out whole, in order, in parts of at most 64 KiB each."""
    found = run(65_536)
    assert found["batch"]["bytes"] > 3 * 65_536  # one export would have been a 413
    parts = found["batchParts"]
    assert len(parts) > 1 and all(part["bytes"] <= 65_536 for part in parts)
    assert [name for part in parts for name in part["names"]] == found["batch"]["names"]
    assert found["batchCode"] == 0  # ExportResultCode.SUCCESS


def test_a_span_too_large_alone_is_dropped_and_the_export_fails() -> None:
    """A span whose body alone exceeds the bound is not sent; the others are, and the export says FAILED."""
    found = run(65_536)
    names = [name for part in found["withHuge"] for name in part["names"]]
    assert names == found["batch"]["names"] and all(p["bytes"] <= 65_536 for p in found["withHuge"])
    assert found["withHugeCode"] == 1 and "1 span(s) larger than 65536 bytes" in found["withHugeError"]


def test_a_batch_within_the_bound_is_one_export() -> None:
    """With a bound above the batch's size, the batch is sent as it is, in one export."""
    found = run(1_000_000)
    assert [part["names"] for part in found["batchParts"]] == [found["batch"]["names"]]
