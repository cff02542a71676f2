"""Run the benchmark: backends, one three-service stack per configuration, interleaved wrk rounds."""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import sinks, wrk
from bench.configs import Backends, Config
from bench.report import Sample
from tests.e2e.harness import REPO, Stack, base_env, free_port, poll

PATH = "/api/activities/home"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {platform.system()}"


@contextmanager
def process(command: Sequence[str], log: Path, ready: str | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A helper process (backends), stopped on the way out; waits for `ready` on its first line."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE if ready else out, stderr=out)
        try:
            if ready is not None:
                assert proc.stdout is not None
                line = proc.stdout.readline().decode()
                if ready not in line:
                    raise SystemExit(f"{command[2]} did not start: {line!r} (log: {log})")
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def start_backends(stack: ExitStack, configs: Sequence[Config], out: Path) -> tuple[Backends, list[int]]:
    """The sinks process (OTLP, Rollbar, X-Ray UDP) and, when a config needs it, a moto server."""
    backends = Backends(
        sink_port=free_port(),
        udp_ports={c.name: free_port() for c in configs},
        moto_port=free_port(),
        dead_port=free_port(),
    )
    command = [sys.executable, "-m", "bench.sinks", "--http-port", str(backends.sink_port)]
    for port in backends.udp_ports.values():
        command += ["--udp-port", str(port)]
    pids = [stack.enter_context(process(command, out / "sinks.log", ready="ready")).pid]
    if any(c.full and not c.down for c in configs) and importlib.util.find_spec("moto") is not None:
        moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(backends.moto_port)]
        pids.append(stack.enter_context(process(moto, out / "moto.log")).pid)
        poll(lambda: _answers(f"http://127.0.0.1:{backends.moto_port}/"), timeout=30, what="moto server")
    return backends, pids


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.HTTPError:
        return False


def active(stack: Stack) -> str:
    """What each service says is on (its /healthz), as `gateway / activities / users`."""
    said = []
    for name in ("gateway", "activities", "users"):
        body = httpx.get(f"{stack.services[name].url}/healthz", timeout=5).json()
        said.append(", ".join(body.get("telemetry", [])) or "none")
    return " / ".join(said) if len(set(said)) > 1 else said[0]


def measure(
    configs: Sequence[Config], *, rounds: int, seconds: float, connections: int, out: Path, mode: str
) -> tuple[dict[str, Any], list[Sample]]:
    """Start everything, warm each stack up, then interleave the configurations over `rounds`."""
    wrk.require()
    samples: list[Sample] = []
    with ExitStack() as stack:
        backends, sink_pids = start_backends(stack, configs, out)
        stacks: dict[str, Stack] = {}
        for config in configs:
            print(f"starting {config.name}", flush=True)
            where = out / "logs" / config.name
            where.mkdir(parents=True, exist_ok=True)
            stacks[config.name] = Stack(where, base_env(**config.env(backends))).start()
            stack.callback(stacks[config.name].stop)
        said = {name: active(s) for name, s in stacks.items()}
        for s in stacks.values():
            wrk.run(s.gateway + PATH, seconds=min(2.0, seconds), connections=connections)  # warm-up
        for r in range(rounds):
            order = [*configs[r % len(configs) :], *configs[: r % len(configs)]]
            for config in order:
                samples.append(_sample(config.name, r, stacks[config.name], sink_pids, seconds, connections))
                print(f"round {r + 1}/{rounds} {config.name}: {samples[-1]}", flush=True)
        time.sleep(6)  # let the batch processors flush before reading what arrived
        counts = httpx.get(f"http://127.0.0.1:{backends.sink_port}/_counts", timeout=5).json()
        received = sinks.received(counts, configs, backends)  # while moto is still up
    run = {
        "mode": mode,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "connections": connections,
        "seconds": seconds,
        "rounds": rounds,
        "path": PATH,
        "about": {c.name: c.about for c in configs},
        "env": {c.name: c.env(backends) for c in configs},
        "active": said,
        "received": received,
    }
    return run, samples


def _sample(
    name: str, round_: int, stack: Stack, sinks: list[int], seconds: float, connections: int
) -> Sample:
    pids = [s.process.pid for s in stack.services.values() if s.process is not None]
    before, sink_before = sum(map(cpu_seconds, pids)), sum(map(cpu_seconds, sinks))
    result = wrk.run(stack.gateway + PATH, seconds=seconds, connections=connections)
    used, sink_used = sum(map(cpu_seconds, pids)) - before, sum(map(cpu_seconds, sinks)) - sink_before
    per = 1000 / max(result.requests, 1)
    return Sample(
        config=name,
        round=round_,
        requests=result.requests,
        rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms=used * per,
        sink_cpu_ms=sink_used * per,
        errors=result.errors,
    )
