"""The benchmark's own logic, without running it: wrk parsing, ratios by round, targets, environments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.propagate import get_global_textmap

from bench import cold, configs, report, wrk
from bench.configs import Backends
from bench.report import Sample

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:40001/api/activities/home
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    81.10ms   40.02ms   1.02s    91.00%
    Req/Sec   198.51     30.12   250.00     70.00%
  Latency Distribution
     50%  850.00us
     75%   90.12ms
     90%  120.00ms
     99%    1.50s
  993 requests in 5.01s, 2.25MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:    198.21
Transfer/sec:    460.12KB
"""
BACKENDS = Backends(
    sink_port=1001,
    udp_ports={"full-100": 1002, "full-down": 1003, "full-default": 1005, "xray-sdk-100": 1006},
    moto_port=1004,
    dead_port=9,
)
# How a run was made, as `report.markdown` reads it.
RUN: dict[str, Any] = {
    "mode": "quick",
    "date": "today",
    "machine": "2 cores",
    "connections": 16,
    "seconds": 5,
    "rounds": 1,
    "path": "/",
    "active": {},
    "about": {},
    "received": {},
}


def sample(config: str, round_: int, rps: float, cpu_ms: float, p99_ms: float = 100.0) -> Sample:
    return Sample(config, round_, 1000, rps, 50.0, p99_ms, cpu_ms, 0.1, 0)


def test_wrk_report_is_parsed_with_units_and_errors() -> None:
    """Requests, rate, p50/p99 in ms whatever wrk's unit, and failed responses plus socket errors."""
    result = wrk.parse(WRK_OUTPUT)
    assert (result.requests, result.seconds, result.rps) == (993, 5.01, 198.21)
    assert (result.p50_ms, result.p99_ms, result.errors) == (0.85, 1500.0, 6)


def test_truncated_wrk_output_is_an_error() -> None:
    """wrk output without its latency distribution is refused, never read as zeros."""
    with pytest.raises(ValueError):
        wrk.parse(WRK_OUTPUT.replace("     99%    1.50s\n", ""))


def test_ratios_pair_each_round_with_bare_of_the_same_round() -> None:
    """A ratio compares samples of one round, so a slower round does not read as telemetry cost."""
    samples = [
        sample("bare", 0, 200, 5.0),
        sample("full-100", 0, 160, 6.0),
        sample("bare", 1, 100, 10.0),
        sample("full-100", 1, 90, 11.0),
    ]
    ratios = report.summarize(samples)["full-100"]["vs_bare"]
    assert ratios["rps"] == {"median": pytest.approx(0.85), "min": 0.8, "max": 0.9}
    assert ratios["cpu_ms"]["max"] == pytest.approx(1.2)


def test_targets_say_met_missed_or_not_measured() -> None:
    """Each target is judged on the median paired ratio; a configuration not run is 'not measured'."""
    samples = [
        sample("bare", 0, 200, 5.0),
        sample("full-100", 0, 140, 7.5),
        sample("full-down", 0, 140, 7.5, p99_ms=110),
    ]
    met = {t["target"]: t["met"] for t in report.targets(samples)}
    assert met == {
        "full-100 CPU/request <= 1.25x bare": False,
        "full-100 throughput >= 0.8x bare": False,
        "otel-100 throughput >= 0.85x bare": None,
        "full-0 (unsampled) CPU/request <= 1.1x bare": None,
        "xray-100 (X-Ray in process) CPU/request <= 1.5x bare": None,
        "backends down: p99 within noise (<= 1.25x) of backends up": True,
    }
    text = report.markdown({**RUN, "about": {"bare": "nothing"}}, samples)
    assert "| `full-100` |" in text and "| **no** |" in text and "not measured" in text


def test_a_target_missed_by_a_hair_does_not_read_as_met() -> None:
    """The targets table gives three decimals: 0.848 against a 0.85 line reads 0.848, missed, not 0.85."""
    samples = [sample("bare", 0, 200, 5.0), sample("otel-100", 0, 169.6, 5.9)]
    text = report.markdown(RUN, samples)
    assert "| otel-100 throughput >= 0.85x bare | 0.848 (0.848-0.848) | **no** |" in text


def test_full_configuration_sets_every_integration_by_its_design_name() -> None:
    """`full` turns on OTel, X-Ray, Rollbar and CloudWatch with the variable names of DESIGN.md."""
    [full] = [c for c in configs.ALL if c.name == "full-100"]
    env = full.env(BACKENDS)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:1001/full-100"
    assert (
        env["XRAY_EXPORTER"] == "otlp"
        and env["XRAY_OTLP_ENDPOINT"] == "http://127.0.0.1:1001/full-100-xray/v1/traces"
    )
    assert env["ROLLBAR_ENDPOINT"] == "http://127.0.0.1:1001/full-100/api/1/"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1004" and env["CLOUDWATCH_LOG_GROUP"]
    bare = configs.ALL[0].env(BACKENDS)
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in bare and bare["OTEL_SDK_DISABLED"] == "true", (
        "bare has no telemetry"
    )


def test_down_configuration_points_every_backend_at_a_closed_port() -> None:
    """`full-down` sends everything to the dead port, and `bare` always runs first."""
    [down] = [c for c in configs.ALL if c.name == "full-down"]
    env = down.env(BACKENDS)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "XRAY_OTLP_ENDPOINT", "AWS_ENDPOINT_URL"):
        assert ":9" in env[name], name
    assert [c.name for c in configs.select(["otel-100"], quick=False)] == ["bare", "otel-100"]


def test_hundred_percent_with_xray_samples_everything() -> None:
    """With X-Ray on its rules decide at the root, so the 100% configurations bring rules that sample all."""
    import json

    by_name = {c.name: c for c in configs.ALL}
    rules = json.loads(Path(by_name["full-100"].env(BACKENDS)["XRAY_SAMPLING_RULES"]).read_text())
    assert rules["default"] == {"fixed_target": 0, "rate": 1.0} and rules["rules"] == []
    assert "XRAY_SAMPLING_RULES" not in by_name["full-default"].env(BACKENDS)


def test_xray_configurations_name_the_way_out_they_measure() -> None:
    """`xray-100` signs OTLP to the sink in process, `xray-sdk-100` sends SDK segments to a UDP port."""
    by_name = {c.name: c for c in configs.ALL}
    otlp = by_name["xray-100"].env(BACKENDS)
    assert otlp["XRAY_EXPORTER"] == "otlp" and otlp["XRAY_OTLP_ENDPOINT"].endswith("/xray-100-xray/v1/traces")
    sdk = by_name["xray-sdk-100"].env(BACKENDS)
    assert sdk["XRAY_EXPORTER"] == "sdk" and sdk["AWS_XRAY_DAEMON_ADDRESS"].startswith("127.0.0.1:")
    assert "XRAY_EXPORTER" not in by_name["otel-100"].env(BACKENDS)


def test_cold_times_every_step_both_ways_and_leaves_the_process_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m bench.cold` prints a loop and a cold figure for every step, then puts the process's
    propagator and context back."""
    propagator = get_global_textmap()
    cold.main(["--iterations", "3", "--repetitions", "1", "--evict", "1"])
    header, *rows = capsys.readouterr().out.splitlines()
    with cold.request_steps() as steps:
        names = list(steps)
    assert header.split()[0] == "step" and len(rows) == len(names) == 6
    for name, row in zip(names, rows, strict=True):
        assert row.startswith(name)
        loop, cold_us, _ = (float(value) for value in row[len(name) :].split())
        assert loop >= 0 and cold_us >= 0
    assert get_global_textmap() is propagator
    assert trace.get_current_span() is trace.INVALID_SPAN
