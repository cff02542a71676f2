"""The benchmark's configurations: each is only an environment for the three service processes.

Variable names are the ones of DESIGN.md "Configuration"; an integration whose branch is not merged
simply ignores its variables (the report shows, per configuration, what each process says is active).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Backends:
    """Where the local telemetry backends listen for one run."""

    sink_port: int  # OTLP/HTTP and Rollbar (bench.sinks)
    udp_ports: dict[str, int]  # X-Ray daemon, one port per configuration
    moto_port: int  # CloudWatch Logs (moto server)
    dead_port: int  # nothing listens here: a backend that is down


@dataclass(frozen=True)
class Config:
    """One configuration: a name, what it is for, and how its environment is built."""

    name: str
    about: str
    otel: bool = False
    xray: Literal["off", "otlp", "sdk"] = "off"  # in-process signed OTLP, or the SDK's UDP segments
    full: bool = False
    sampling: str = "100%"  # "default": no sampler variables at all; "10%": a ratio at the root
    down: bool = False  # every backend address points at a closed port
    server: dict[str, str] = field(default_factory=dict)  # more variables: the server, transport, logs

    def env(self, backends: Backends) -> dict[str, str]:
        """The environment variables this configuration adds to a clean one."""
        env = dict(self.server)
        if not (self.otel or self.xray != "off" or self.full):
            # Trace context is on by default (spans made, not exported): bare switches it off too.
            env["OTEL_SDK_DISABLED"] = "true"
        sink = f"http://127.0.0.1:{backends.dead_port if self.down else backends.sink_port}/{self.name}"
        if self.otel:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink
            if self.sampling == "100%":
                env["OTEL_TRACES_SAMPLER"] = "parentbased_always_on"
            elif self.sampling == "10%":
                env.update(OTEL_TRACES_SAMPLER="parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG="0.1")
            elif self.sampling == "0%":
                env["OTEL_TRACES_SAMPLER"] = "parentbased_always_off"
        if self.xray == "otlp":
            # Signed with SigV4 as for real X-Ray (test credentials: the sink does not check them).
            env.update(
                XRAY_EXPORTER="otlp",
                XRAY_OTLP_ENDPOINT=f"{sink}-xray/v1/traces",
                AWS_REGION="us-east-1",
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
            )
        elif self.xray == "sdk":
            port = backends.dead_port if self.down else backends.udp_ports[self.name]
            env["XRAY_EXPORTER"] = "sdk"
            env["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{port}"
        # With X-Ray on, its rules make the root decision (OTEL_TRACES_SAMPLER is not used):
        # "default" keeps the shipped rules (observability/xray/sampling_rules.json).
        if self.xray != "off" and self.sampling in RULES:
            env["XRAY_SAMPLING_RULES"] = str(RULES[self.sampling])
        if self.full:
            moto = backends.dead_port if self.down else backends.moto_port
            env.update(
                ROLLBAR_ACCESS_TOKEN="bench-not-a-real-token",
                ROLLBAR_ENDPOINT=f"{sink}/api/1/",
                CLOUDWATCH_LOG_GROUP=f"bench-{self.name}",
                AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto}",
                AWS_REGION="us-east-1",
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
            )
        return env


RULES = {
    "100%": HERE / "xray-rules-all.json",
    "10%": HERE / "xray-rules-10.json",
    "0%": HERE / "xray-rules-none.json",
}
HTTPX_ASYNCIO = {"HTTP_CLIENT_TRANSPORT": "httpx", "SERVER_LOOP": "asyncio", "SERVER_HTTP": "h11"}
AIOHTTP_ASYNCIO = {"HTTP_CLIENT_TRANSPORT": "aiohttp", "SERVER_LOOP": "asyncio", "SERVER_HTTP": "h11"}

ALL = [
    Config("bare", "no telemetry; the project's defaults (aiohttp transport, uvloop, httptools)"),
    Config("otel-100", "OpenTelemetry, 100% sampling", otel=True),
    Config("otel-default", "OpenTelemetry, default sampling", otel=True, sampling="default"),
    Config(
        "xray-100", "OpenTelemetry + X-Ray (in-process signed OTLP), 100% sampling", otel=True, xray="otlp"
    ),
    Config(
        "xray-sdk-100", "OpenTelemetry + X-Ray SDK segments to a daemon, 100% sampling", otel=True, xray="sdk"
    ),
    Config(
        "xray-default", "OpenTelemetry + X-Ray, default sampling", otel=True, xray="otlp", sampling="default"
    ),
    Config(
        "full-100", "OTel + X-Ray + Rollbar + CloudWatch, 100% sampling", otel=True, xray="otlp", full=True
    ),
    Config("full-default", "full, default sampling", otel=True, xray="otlp", full=True, sampling="default"),
    Config(
        "full-10",
        "full, 10% of traces sampled at the root",
        otel=True,
        xray="otlp",
        full=True,
        sampling="10%",
    ),
    Config(
        "full-0",
        "full, no trace sampled (what every request pays: context, middleware, access line)",
        otel=True,
        xray="otlp",
        full=True,
        sampling="0%",
    ),
    Config(
        "full-down", "full, 100% sampling, every backend down", otel=True, xray="otlp", full=True, down=True
    ),
    Config(
        "full-10-sampled-lines",
        "full, 10% sampled, ACCESS_LOG=sampled (access lines of sampled traces and failures only)",
        otel=True,
        xray="otlp",
        full=True,
        sampling="10%",
        server={"ACCESS_LOG": "sampled"},
    ),
    Config(
        "bare-no-lines",
        "no telemetry, ACCESS_LOG=off (what the access lines cost)",
        server={"ACCESS_LOG": "off"},
    ),
    Config("bare-httpx", "no telemetry; httpx's default transport, asyncio loop, h11", server=HTTPX_ASYNCIO),
    Config(
        "bare-aiohttp-asyncio", "no telemetry; aiohttp transport, asyncio loop, h11", server=AIOHTTP_ASYNCIO
    ),
    Config(
        "otel-httpx",
        "OpenTelemetry 100%; httpx's default transport, asyncio, h11",
        otel=True,
        server=HTTPX_ASYNCIO,
    ),
]
QUICK = ["bare", "otel-100", "xray-100", "xray-sdk-100", "full-100", "full-0", "full-down"]


def select(names: list[str] | None, *, quick: bool) -> list[Config]:
    """The configurations of a run, `bare` always first (every ratio is to it)."""
    wanted = names or (QUICK if quick else [c.name for c in ALL])
    by_name = {c.name: c for c in ALL}
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown configuration(s): {', '.join(unknown)}; known: {', '.join(by_name)}")
    return [by_name["bare"], *(by_name[n] for n in wanted if n != "bare")]
