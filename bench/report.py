"""Turn the samples of a run into figures: medians with min and max, ratios to bare in the same round."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from math import inf
from typing import Any

METRICS = ("rps", "p50_ms", "p99_ms", "cpu_ms")  # cpu_ms: CPU per request, summed over the 3 services


@dataclass(frozen=True)
class Sample:
    """One configuration measured once, within one round."""

    config: str
    round: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    sink_cpu_ms: float  # the backends' process, per request (not part of the services' cost)
    errors: int


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(samples: Sequence[Sample], baseline: str = "bare") -> dict[str, dict[str, Any]]:
    """Per configuration: each metric's spread, and its ratio to `baseline` in the same round."""
    by_round = {(s.config, s.round): s for s in samples}
    summary: dict[str, dict[str, Any]] = {}
    for config in dict.fromkeys(s.config for s in samples):
        mine = [s for s in samples if s.config == config]
        entry: dict[str, Any] = {m: spread([getattr(s, m) for s in mine]) for m in METRICS}
        entry["sink_cpu_ms"] = spread([s.sink_cpu_ms for s in mine])
        entry["errors"] = sum(s.errors for s in mine)
        entry["requests"] = sum(s.requests for s in mine)
        ratios: dict[str, dict[str, float]] = {}
        for metric in METRICS:
            values = [
                getattr(s, metric) / getattr(by_round[(baseline, s.round)], metric)
                for s in mine
                if (baseline, s.round) in by_round and getattr(by_round[(baseline, s.round)], metric)
            ]
            if values:
                ratios[metric] = spread(values)
        entry["vs_" + baseline] = ratios
        summary[config] = entry
    return summary


def paired(samples: Sequence[Sample], config: str, other: str, metric: str) -> dict[str, float] | None:
    """`config`'s metric over `other`'s, round by round (None unless both ran)."""
    rounds = {s.round: s for s in samples if s.config == other}
    values = [
        getattr(s, metric) / getattr(rounds[s.round], metric)
        for s in samples
        if s.config == config and s.round in rounds
    ]
    return spread(values) if values else None


# (target, configuration, compared with, metric, lowest allowed ratio, highest allowed ratio): issue 16's
# "done when" (full telemetry, OTel alone, unsampled requests) and issue 9's (X-Ray in process).
TARGETS: list[tuple[str, str, str, str, float, float]] = [
    ("full-100 CPU/request <= 1.25x bare", "full-100", "bare", "cpu_ms", 0.0, 1.25),
    ("full-100 throughput >= 0.8x bare", "full-100", "bare", "rps", 0.8, inf),
    ("otel-100 throughput >= 0.85x bare", "otel-100", "bare", "rps", 0.85, inf),
    ("full-0 (unsampled) CPU/request <= 1.1x bare", "full-0", "bare", "cpu_ms", 0.0, 1.1),
    ("xray-100 (X-Ray in process) CPU/request <= 1.5x bare", "xray-100", "bare", "cpu_ms", 0.0, 1.5),
    (
        "backends down: p99 within noise (<= 1.25x) of backends up",
        "full-down",
        "full-100",
        "p99_ms",
        0.0,
        1.25,
    ),
]


def targets(samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured ratio and whether it is met (None: not measured)."""
    found = []
    for what, config, other, metric, low, high in TARGETS:
        ratio = paired(samples, config, other, metric)
        met = None if ratio is None else low <= ratio["median"] <= high
        found.append({"target": what, "ratio": ratio, "met": met})
    return found


def _fmt(s: Mapping[str, float], digits: int = 2) -> str:
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def markdown(run: Mapping[str, Any], samples: Sequence[Sample]) -> str:
    """The report: how it was run, one row per configuration, then the targets."""
    summary = summarize(samples)
    lines = [
        f"# Benchmark: what telemetry costs per request ({run['mode']})",
        "",
        f"{run['date']} · {run['machine']} · wrk {run['connections']} connections, {run['seconds']:g} s per "
        f"sample, {run['rounds']} rounds, configurations interleaved · `GET {run['path']}` "
        "(gateway -> activities -> users). Figures: median (min-max) over rounds; ratios are to `bare` in "
        "the same round. CPU is user+system time of the three service processes per completed request.",
        "",
        "| configuration | active (gateway/activities/users) | req/s | x bare | p50 ms | p99 ms "
        "| CPU ms/req | x bare | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in summary.items():
        ratios, said = entry["vs_bare"], run["active"].get(name, "?")
        lines.append(
            f"| `{name}` | {said} | {_fmt(entry['rps'], 0)} | {_fmt(ratios['rps'])} | "
            f"{_fmt(entry['p50_ms'], 1)} | {_fmt(entry['p99_ms'], 1)} | {_fmt(entry['cpu_ms'])} | "
            f"{_fmt(ratios['cpu_ms'])} | {entry['errors']} |"
        )
    lines += ["", "| configuration | what it is | received by the local backends |", "|---|---|---|"]
    for name, about in run["about"].items():
        lines.append(f"| `{name}` | {about} | {run['received'].get(name, '')} |")
    lines += ["", "## Targets", "", "| target | ratio | met |", "|---|---|---|"]
    for check in targets(samples):
        # Three decimals: a ratio a hair from its line (0.848 against 0.85) must not read as on it.
        ratio = _fmt(check["ratio"], 3) if check["ratio"] else "not measured"
        met = {True: "yes", False: "**no**", None: "-"}[check["met"]]
        lines.append(f"| {check['target']} | {ratio} | {met} |")
    return "\n".join(lines) + "\n"


def as_json(run: Mapping[str, Any], samples: Sequence[Sample]) -> dict[str, Any]:
    """Everything: the run, the raw samples, the summary and the targets."""
    return {
        "run": dict(run),
        "samples": [asdict(s) for s in samples],
        "summary": summarize(samples),
        "targets": targets(samples),
    }
