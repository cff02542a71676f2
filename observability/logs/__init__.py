"""Logs as data: JSON lines on stdout, one access line per request, CloudWatch Logs when configured."""
