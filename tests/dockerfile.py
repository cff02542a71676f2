"""Reading deploy/Dockerfile: its stages, instructions, ENV and HEALTHCHECK (no Docker engine here)."""

from __future__ import annotations

import json
import re
import shlex

from tests.compose import REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"


def dockerfile_instructions() -> list[tuple[str, str, str]]:
    """(stage, instruction, arguments) for every instruction of deploy/Dockerfile."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stage, found = "", []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            stage = args.split(" AS ")[-1].strip() if " AS " in args else args.strip()
        found.append((stage, instruction.upper(), args.strip()))
    return found


def image_env(stage: str = "app") -> dict[str, str]:
    """The ENV a stage sets, its parent stages' first (values with `$` references are left out)."""
    instructions = dockerfile_instructions()
    parents = {s: args.split()[0] for s, i, args in instructions if i == "FROM"}
    chain = [stage]
    while parents.get(chain[-1]) in parents:
        chain.append(parents[chain[-1]])
    env: dict[str, str] = {}
    for current in reversed(chain):
        for s, instruction, args in instructions:
            if s == current and instruction == "ENV":
                pairs = (word.partition("=") for word in shlex.split(args))
                env.update({key: value for key, _, value in pairs if "$" not in value})
    return env


def healthcheck_command() -> list[str]:
    """The exec-form command of the image's HEALTHCHECK."""
    [args] = [args for _, instruction, args in dockerfile_instructions() if instruction == "HEALTHCHECK"]
    command: list[str] = json.loads(args[args.index("CMD") + 3 :])
    return command
