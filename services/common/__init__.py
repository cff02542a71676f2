"""What the three services share that is not telemetry: settings base, database, downstream calls."""
