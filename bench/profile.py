"""`python -m bench.profile [config]`: where a configuration's CPU goes, sampled with py-spy under wrk load.

Writes `bench-results/profile-<config>-<service>.txt` (py-spy's collapsed stacks, for flame graph
tools) and prints, per service, the share of samples owned by each library (see `owner`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from bench import configs, runner, wrk
from tests.e2e.harness import Stack, base_env

PACKAGE = re.compile(r"site-packages/([^/]+)/|/(observability|services|bench)/")


def owner(stack: str) -> str:
    """Who a sample's time belongs to: the innermost frame from a package or from this project.

    Standard-library frames (asyncio, threading, json...) are charged to the code that called them;
    a stack with none (thread start-up) is `stdlib/idle`. py-spy counts a thread blocked in C (a
    queue's `get`) as busy now and then, so shares are a guide, not an account.
    """
    frames = stack.split(";")
    if frames and "asyncio/runners.py" in frames[-1]:
        return "event loop (uvloop's C code: I/O, or waiting)"
    for frame in reversed(frames):
        match = PACKAGE.search(frame)
        if match is None:
            continue
        package = match.group(1) or f"ours: {match.group(2)}"
        if package == "opentelemetry":
            part = re.search(r"site-packages/opentelemetry/([a-z_]+(?:/[a-z_]+)?)", frame)
            package = f"opentelemetry {part.group(1) if part else ''}".strip()
        return package
    return "stdlib/idle"


def shares(collapsed: str) -> tuple[int, dict[str, float]]:
    """Total samples and each owner's share of them (see `owner`), largest first."""
    total, hits = 0, Counter[str]()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            total += int(count)
            hits[owner(stack)] += int(count)
    return total, {name: n / total for name, n in hits.most_common()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", nargs="?", default="otel-100")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    config = configs.select([args.config], quick=False)[-1]
    args.out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        backends, _ = runner.start_backends(stack, [config], args.out)
        services = Stack(args.out / "logs" / "profile", base_env(**config.env(backends)))
        (args.out / "logs" / "profile").mkdir(parents=True, exist_ok=True)
        services.start()
        stack.callback(services.stop)
        wrk.run(services.gateway + runner.PATH, seconds=3)  # warm-up
        spies = {}
        for name, service in services.services.items():
            assert service.process is not None
            target = args.out / f"profile-{config.name}-{name}.txt"
            command = [spy, "record", "-p", str(service.process.pid), "-d", f"{args.seconds:g}"]
            command += ["-r", "100", "--nonblocking", "--full-filenames", "-f", "raw", "-o", str(target)]
            spies[name] = (
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                target,
            )
        print(wrk.run(services.gateway + runner.PATH, seconds=args.seconds - 1))
        for name, (spy_process, target) in spies.items():
            spy_process.wait(60)
            total, found = shares(target.read_text() if target.exists() else "")
            otel = sum(share for lib, share in found.items() if lib.startswith("opentelemetry"))
            top = ", ".join(f"{lib} {share:.1%}" for lib, share in list(found.items())[:12])
            print(f"{name}: {total} samples; all opentelemetry {otel:.1%}; {top}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
