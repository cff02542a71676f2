// Exports that fit the gateway's bound. The relay takes at most the gateway's MAX_BODY_BYTES a request
// (its config says how many: `max_export_bytes`) and answers a larger body 413, losing its spans. A
// batch whose OTLP/JSON body is larger is split in halves until each part fits, and the parts are sent
// one after another; a span too large to fit on its own is dropped, and the export says it failed.
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';

/** The size in bytes of the OTLP/JSON body the exporter sends for `spans`. */
export function exportSize(spans) {
  return JsonTraceSerializer.serializeRequest(spans)?.byteLength ?? 0;
}

/**
 * `spans` in consecutive parts whose bodies each fit in `maxBytes`, in order, and how many spans
 * could not fit even alone.
 */
export function splitToFit(spans, maxBytes, size = exportSize) {
  if (spans.length === 0) return { parts: [], dropped: 0 };
  if (size(spans) <= maxBytes) return { parts: [spans], dropped: 0 };
  if (spans.length === 1) return { parts: [], dropped: 1 };
  const half = Math.ceil(spans.length / 2);
  const first = splitToFit(spans.slice(0, half), maxBytes, size);
  const rest = splitToFit(spans.slice(half), maxBytes, size);
  return { parts: [...first.parts, ...rest.parts], dropped: first.dropped + rest.dropped };
}

/** A span exporter that sends through `inner` in parts of at most `maxBytes` each. */
export class BoundedExporter {
  constructor(inner, maxBytes) {
    this.inner = inner;
    this.maxBytes = maxBytes;
  }

  export(spans, resultCallback) {
    const { parts, dropped } = splitToFit(spans, this.maxBytes);
    let error = dropped ? new Error(`${dropped} span(s) larger than ${this.maxBytes} bytes alone, dropped`) : null;
    const send = (index) => {
      if (index === parts.length) {
        resultCallback(error ? { code: ExportResultCode.FAILED, error } : { code: ExportResultCode.SUCCESS });
        return;
      }
      this.inner.export(parts[index], (result) => {
        if (result.code !== ExportResultCode.SUCCESS && !error) error = result.error || new Error('export failed');
        send(index + 1);
      });
    };
    send(0);
  }

  forceFlush() {
    return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve();
  }

  shutdown() {
    return this.inner.shutdown();
  }
}
