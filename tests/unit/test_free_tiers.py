"""What the shipped defaults cost under the compose load profile, checked against each free tier.

The free tiers, as their vendors publish them (found through the docs search; README "What it costs"):
- Honeycomb Free: 20,000,000 events a month, every span and span event an event
  (honeycomb.io/pricing; docs.honeycomb.io, "Usage center: how we define an event").
- AWS X-Ray: 100,000 traces recorded a month, always free (aws.amazon.com/xray/pricing).
- Rollbar Free: 5,000 events (occurrences) a month (rollbar.com/pricing).
- CloudWatch Logs: 5 GB of log data ingested a month and 5 GB-month of storage, always free
  (aws.amazon.com/cloudwatch/pricing).
A month is 31 days. The load profile is compose's `loadgen` with no .env: LOADGEN_USERS visitors, each
making one request every LOADGEN_PACING seconds (locust's constant pacing). What one request costs
(spans, log lines, bytes) is measured on the three real apps by tests/inprocess/test_free_tiers.py,
against the bounds used below.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from observability.logs.settings import LogsSettings
from observability.rollbar.settings import RollbarSettings
from observability.xray.settings import DEFAULT_RULES
from observability.xray.setup import SERVICES
from tests.compose import compose

REPO = Path(__file__).resolve().parents[2]

MONTH_S = 31 * 24 * 3600
HOURS_A_MONTH = 31 * 24
HONEYCOMB_EVENTS = 20_000_000
XRAY_TRACES = 100_000
ROLLBAR_EVENTS = 5_000
CLOUDWATCH_BYTES = 5 * 10**9  # 5 GB ingested, and 5 GB-month stored
CLOUDWATCH_EVENT_OVERHEAD = 26  # bytes CloudWatch adds to each event when it bills ingestion

# Per request of the load profile, at most (measured on the three apps: tests/inprocess/test_free_tiers.py):
SPANS_PER_REQUEST = 12  # spans + span events + links: what Honeycomb counts
LOG_LINES_PER_REQUEST = 5
BYTES_PER_LOG_LINE = 1024


def load_rate() -> float:
    """Requests a second of compose's load profile: users / pacing, from the loadgen command."""
    command = " ".join(compose({})["services"]["loadgen"]["command"])
    users = re.search(r"--users (\d+)", command)
    pacing = re.search(r"--cruddur-pacing ([\d.]+)", command)
    assert users and pacing, f"no --users N and --cruddur-pacing S in the loadgen command: {command}"
    return int(users[1]) / float(pacing[1])


def sampled_rate(rules: dict[str, Any], load: float) -> float:
    """Traces a second the X-Ray rules record under `load` requests a second, whichever rule it meets:
    the reservoir (fixed_target a second) first, then `rate` of the rest."""
    worst = 0.0
    for rule in [*rules["rules"], rules["default"]]:
        reservoir = min(load, float(rule["fixed_target"]))
        worst = max(worst, reservoir + float(rule["rate"]) * (load - reservoir))
    return worst


def shipped_rules() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DEFAULT_RULES.read_text())
    return loaded


def test_the_load_profile_paces_its_requests() -> None:
    """The locustfile waits by constant pacing (so the rate is users / pacing) and requests only the
    routes whose cost is measured here."""
    tree = ast.parse((REPO / "deploy" / "locustfile.py").read_text())
    assert "constant_pacing" in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert 0 < load_rate() <= 1.0


def test_xray_rules_keep_the_load_profile_under_the_free_tier() -> None:
    """The shipped rules record at most 100,000 traces in a month of the load profile."""
    traces = sampled_rate(shipped_rules(), load_rate()) * MONTH_S
    assert traces <= XRAY_TRACES, f"{traces:,.0f} X-Ray traces a month"


def test_honeycomb_gets_under_its_free_tier_with_or_without_xray() -> None:
    """Honeycomb's events in a month stay under 20 million whether the X-Ray rules sample (compose's
    default) or X-Ray is off and every request is traced (OTEL_TRACES_SAMPLER unset)."""
    for traces_a_second in (sampled_rate(shipped_rules(), load_rate()), load_rate()):
        events = traces_a_second * SPANS_PER_REQUEST * MONTH_S
        assert events <= HONEYCOMB_EVENTS, f"{events:,.0f} Honeycomb events a month"


def test_rollbar_budget_cannot_spend_the_free_tier_in_a_month() -> None:
    """Every service spending its whole hourly budget every hour of a month stays under 5,000 items."""
    items = len(SERVICES) * RollbarSettings().rollbar_hourly_budget * HOURS_A_MONTH
    assert 0 < items <= ROLLBAR_EVENTS, f"{items:,} Rollbar items a month"


def test_cloudwatch_ingestion_and_storage_stay_under_the_free_tier() -> None:
    """A month of the load profile's log lines is under 5 GB ingested, and what the retention keeps
    under 5 GB stored."""
    a_day = load_rate() * 86_400 * LOG_LINES_PER_REQUEST * (BYTES_PER_LOG_LINE + CLOUDWATCH_EVENT_OVERHEAD)
    assert a_day * 31 <= CLOUDWATCH_BYTES, f"{a_day * 31 / 1e9:.2f} GB ingested a month"
    assert a_day * LogsSettings().cloudwatch_retention_days <= CLOUDWATCH_BYTES


def test_the_arithmetic_catches_the_former_defaults() -> None:
    """The former defaults (5 visitors every 0.5-2 s, about 4 requests a second; 5 a second then 10%;
    10 items per error a minute) fail these checks, as the issue found: the checks can fail."""
    former = {"rules": [{"fixed_target": 5, "rate": 0.1}], "default": {"fixed_target": 1, "rate": 0.05}}
    assert sampled_rate(former, 4.0) * MONTH_S > XRAY_TRACES
    assert len(SERVICES) * 10 * 60 * HOURS_A_MONTH > ROLLBAR_EVENTS
