"""OpenTelemetry: the provider, the server and client instrumentation, database spans, propagation."""
