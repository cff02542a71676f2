"""`python -m services.dev` (`make dev`): the three services on their default ports, without Docker.

Each runs as its own process, exactly as `python -m services.<name>`, with this environment; Ctrl-C
stops all three.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

ORDER = ("users", "activities", "gateway")


def main() -> int:
    processes = [
        subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=os.environ.copy()) for name in ORDER
    ]
    print(
        "the page on http://localhost:8000/ (or curl -i localhost:8000/api/activities/home); Ctrl-C stops all"
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    failed = 0
    for name, process in zip(ORDER, processes, strict=True):
        try:
            code = process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        if code not in (0, -signal.SIGTERM):
            print(f"{name} exited with {code}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
