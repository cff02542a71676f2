"""What one request of compose's load profile costs on the three real apps: at most the spans, log lines
and bytes tests/unit/test_free_tiers.py holds every free tier against."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from observability.logs.formatter import JsonFormatter
from services.gateway.auth import mint
from services.gateway.settings import DEV_AUTH_SECRET
from tests.inprocess.wiring import Apps
from tests.unit.test_free_tiers import BYTES_PER_LOG_LINE, LOG_LINES_PER_REQUEST, SPANS_PER_REQUEST

# The load generator's requests, as deploy/locustfile.py makes them.
LOAD_REQUESTS = (
    ("GET", "/api/activities/home"),
    ("GET", "/api/activities/@worf"),
    ("POST", "/api/activities"),
)


class Lines(logging.Handler):
    """Formats each line as it is logged (inside the request's context, as CloudWatch gets it)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(JsonFormatter("activities").format(record))


async def test_one_request_costs_what_the_arithmetic_assumes(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    """Each request of the load profile makes at most SPANS_PER_REQUEST spans (with their events and
    links) and LOG_LINES_PER_REQUEST log lines of at most BYTES_PER_LOG_LINE bytes."""
    caplog.set_level(logging.INFO)
    for noisy in ("httpx", "botocore", "boto3", "urllib3"):  # as configure_logging sets them in a service
        caplog.set_level(logging.WARNING, logger=noisy)
    lines = Lines()
    logging.getLogger().addHandler(lines)
    token = mint("andrewbrown", DEV_AUTH_SECRET)
    try:
        for method, path in LOAD_REQUESTS:
            apps.exporter.clear()
            lines.lines.clear()
            extra: dict[str, Any] = {}
            if method == "POST":
                extra = {
                    "json": {"message": "load test crud"},
                    "headers": {"Authorization": f"Bearer {token}"},
                }
            response = await apps.client.request(method, path, **extra)
            assert response.status_code < 300
            spans: list[Any] = apps.finished_spans()
            events = sum(1 + len(s.events) + len(s.links) for s in spans)
            assert 0 < events <= SPANS_PER_REQUEST, f"{method} {path}: {events} Honeycomb events"
            assert 0 < len(lines.lines) <= LOG_LINES_PER_REQUEST, f"{method} {path}: {len(lines.lines)} lines"
            assert max(len(line.encode()) for line in lines.lines) <= BYTES_PER_LOG_LINE
    finally:
        logging.getLogger().removeHandler(lines)
