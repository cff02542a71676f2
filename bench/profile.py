"""`python -m bench.profile [config]`: where a configuration's CPU goes, sampled with py-spy under wrk load.

Writes `bench-results/profile-<config>-<service>.txt` (py-spy's collapsed stacks, for flame graph
tools) and prints, per service, the share of busy samples spent inside each library (inclusive).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from bench import configs, runner, wrk
from tests.e2e.harness import Stack, base_env

LIBRARIES = {
    "opentelemetry": "/opentelemetry/",
    "observability (ours)": "/observability/",
    "aiohttp": "/aiohttp/",
    "httpx/httpcore": "/httpx/|/httpcore/",
    "sqlalchemy+aiosqlite": "/sqlalchemy/|/aiosqlite/",
    "pydantic": "/pydantic/",
    "fastapi+starlette": "/fastapi/|/starlette/",
    "uvicorn": "/uvicorn/",
    "logging": "/logging/",
}


def shares(collapsed: str) -> tuple[int, dict[str, float]]:
    """Total samples and, per library, the share of samples whose stack passes through it."""
    total, hits = 0, Counter[str]()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        for name, patterns in LIBRARIES.items():
            if any(p in stack for p in patterns.split("|")):
                hits[name] += n
    return total, {name: hits[name] / total for name in LIBRARIES} if total else {}


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
            top = ", ".join(
                f"{lib} {share:.0%}" for lib, share in sorted(found.items(), key=lambda kv: -kv[1])
            )
            print(f"{name}: {total} busy samples; {top}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
