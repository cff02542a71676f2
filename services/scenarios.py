"""`python -m services.scenarios <name>`: break the running stack on purpose and print where to look.

Each scenario sends a handful of requests to the gateway carrying one fault in W3C baggage (README
"Break it on purpose"), and prints for each its status, time, trace id and the trace's link in Jaeger
(and in Honeycomb and the X-Ray console when configured). The services must run with
`FAULTS_ENABLED=true` (never in production). Reads `GATEWAY_URL`, `JAEGER_URL`, `FAULTS_SECRET`,
`HONEYCOMB_TEAM`, `HONEYCOMB_ENVIRONMENT` and `AWS_REGION`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability import FAULT_SECRET_HEADER, trace_links


@dataclass(frozen=True)
class Scenario:
    """One way to break the stack: the route to call, the fault it carries, what to look for."""

    path: str
    baggage: str
    requests: int
    shows: str


SCENARIOS = {
    "slow-users": Scenario(
        "/api/activities/home",
        "fault.users=delay:300ms-900ms",
        5,
        "users' server span lasts 0.3-0.9 s, and activities' and the gateway's with it",
    ),
    "flaky-activities": Scenario(
        "/api/activities/home",
        "fault.activities=status:503;p=0.5",
        6,
        "about half answer 502 naming activities; each is one Rollbar item from activities, marked injected",
    ),
    "cascade-timeout": Scenario(
        "/api/activities/home",
        "fault.users=timeout",
        2,
        "users hangs; activities and the gateway give up after DOWNSTREAM_TIMEOUT: a 504",
    ),
    "dropped-connection": Scenario(
        "/api/activities/@worf",
        "fault.users=drop",
        3,
        "users closes the connection without an answer: a 502 naming users",
    ),
    "slow-query": Scenario(
        "/api/activities/home",
        "fault.activities=slow_query:500ms",
        3,
        "activities' database span lasts 0.5 s longer; its HTTP work does not",
    ),
    "slow-profile": Scenario(
        "/api/activities/@worf",
        "fault.users.get_user=delay:800ms",
        3,
        "only users' get_user route is slow: the profile page waits, the home feed would not",
    ),
    "broken-gateway": Scenario(
        "/api/activities/home",
        "fault.gateway=status:500",
        2,
        "the gateway answers 500 itself, before calling anyone: a one-service trace",
    ),
}


class ScenarioSettings(BaseSettings):
    """Where the stack and its trace viewers are, seen from the machine running the scenario."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    gateway_url: str = "http://localhost:8000"
    jaeger_url: str = "http://localhost:16686"
    faults_secret: SecretStr | None = None
    honeycomb_team: str | None = None
    honeycomb_environment: str | None = None
    aws_region: str | None = None

    def links(self, trace_id: str) -> dict[str, str]:
        honeycomb = None
        if self.honeycomb_team and self.honeycomb_environment:
            honeycomb = (self.honeycomb_team, self.honeycomb_environment)
        return trace_links(
            trace_id, honeycomb=honeycomb, aws_region=self.aws_region, jaeger_url=self.jaeger_url
        )


def run(
    name: str,
    settings: ScenarioSettings,
    say: Callable[[str], None],
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Send the scenario's requests, saying what happened line by line; 1 if the gateway is unreachable.

    Args:
        name: a key of `SCENARIOS`.
        settings: where the gateway and the trace viewers are.
        say: prints one line.
        transport: the client's transport (tests pass a mock one).
    """
    scenario = SCENARIOS[name]
    headers = {"baggage": scenario.baggage}
    if settings.faults_secret is not None:
        headers[FAULT_SECRET_HEADER] = settings.faults_secret.get_secret_value()
    with httpx.Client(base_url=settings.gateway_url, timeout=30.0, transport=transport) as http:
        try:
            health = http.get("/healthz").json()
        except (httpx.HTTPError, ValueError) as error:
            say(f"cannot reach the gateway at {settings.gateway_url} ({type(error).__name__}): is it up?")
            return 1
        say(f"{name}: GET {scenario.path} with baggage {scenario.baggage}")
        say(f"look for: {scenario.shows}")
        if "faults" not in health.get("telemetry", []):
            say("warning: faults are off at the gateway (they need FAULTS_ENABLED=true, outside production)")
        for number in range(1, scenario.requests + 1):
            started = time.monotonic()
            try:
                response = http.get(scenario.path, headers=headers)
            except httpx.HTTPError as error:
                say(f"{number:>3}  {type(error).__name__} after {time.monotonic() - started:.1f} s")
                continue
            took = (time.monotonic() - started) * 1000
            trace_id = response.headers.get("traceresponse", "---").split("-")[1] or "(none)"
            line = f"{number:>3}  {response.status_code}  {took:6.0f} ms  trace {trace_id}"
            if not response.is_success:
                line += f"  {response.text[:120]}"
            say(line)
            for backend, link in settings.links(trace_id).items() if trace_id != "(none)" else ():
                say(f"     {backend:<9} {link}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.scenarios", description="Break the running stack on purpose."
    )
    parser.add_argument("name", nargs="?", choices=sorted(SCENARIOS), help="the scenario (none: list them)")
    args = parser.parse_args(argv)
    if args.name is None:
        for name, scenario in SCENARIOS.items():
            print(f"{name:<19} {scenario.baggage:<36} {scenario.shows}")
        return 0
    return run(args.name, ScenarioSettings(), lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
