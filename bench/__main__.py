"""`python -m bench [--quick]`: measure every configuration, write report.md and report.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import configs, report, runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer configurations and rounds (~3 min)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds over all configurations")
    parser.add_argument("--seconds", type=float, default=None, help="wrk duration of one sample")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--configs", default="", help="comma-separated names (bare is always included)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)
    chosen = configs.select([n for n in args.configs.split(",") if n], quick=args.quick)
    rounds = args.rounds or (2 if args.quick else 5)
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    args.out.mkdir(parents=True, exist_ok=True)
    run, samples = runner.measure(
        chosen,
        rounds=rounds,
        seconds=seconds,
        connections=args.connections,
        out=args.out,
        mode="quick" if args.quick else "full",
    )
    text = report.markdown(run, samples)
    (args.out / "report.md").write_text(text)
    (args.out / "report.json").write_text(json.dumps(report.as_json(run, samples), indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
