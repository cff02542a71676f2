"""The benchmark: what telemetry costs per request (`make bench`, `make bench-quick`; see README)."""
