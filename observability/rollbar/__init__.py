"""Unhandled errors to Rollbar: one item per error, stamped with the trace, bounded in rate and memory."""
