// Browser tracing: the OpenTelemetry web SDK, the fetch and document-load instrumentations, and the
// OTLP/HTTP exporter. The page never holds a key: it exports to the address the gateway gives it
// (the gateway's own relay, which adds any key server-side, or a collector that allows this origin).
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { BoundedExporter } from './bounded-exporter.js';

/**
 * Start tracing the page as the gateway's config says; returns the tracer for the page's own spans.
 * @param {{service_name: string, traces_endpoint: string | null, max_export_bytes: number | null,
 *   resource: Record<string, string>}} config
 */
export function startTracing(config) {
  const spanProcessors = [];
  let exportUrl = null;
  if (config.traces_endpoint) {
    exportUrl = new URL(config.traces_endpoint, window.location.href).href;
    let exporter = new OTLPTraceExporter({ url: exportUrl });
    // The gateway's relay takes at most max_export_bytes a request: larger batches go in parts that fit.
    if (config.max_export_bytes) exporter = new BoundedExporter(exporter, config.max_export_bytes);
    // Small batches, soon: a click's spans leave about half a second after it.
    spanProcessors.push(
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500, maxQueueSize: 512, maxExportBatchSize: 128 }),
    );
  }
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.service_name, ...config.resource }),
    spanProcessors,
  });
  // The default context manager and the W3C trace-context propagator: `traceparent` on same-origin
  // fetches, so the gateway's server span is the child of the browser's fetch span.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new DocumentLoadInstrumentation(),
      new FetchInstrumentation({
        ignoreUrls: exportUrl ? [exportUrl] : [],
        clearTimingResources: true,
      }),
    ],
  });
  // Spans still buffered when the tab goes away are sent then.
  window.addEventListener('pagehide', () => {
    provider.forceFlush();
  });
  return trace.getTracer('cruddur-web');
}
