"""OpenTelemetry pieces of our own: the W3C Trace Context propagator and the process composite."""
