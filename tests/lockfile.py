"""Reading uv.lock and its pip exports (requirements/*.txt) without uv, to check what each install gets."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name

from tests.compose import REPO

LOCK = REPO / "uv.lock"
EXPORTS = {name: REPO / "requirements" / f"{name}.txt" for name in ("app", "dev", "load")}


@dataclass(frozen=True)
class Pin:
    """One line of a pip export: the requirement (name, `==version`, marker) and the hashes it accepts."""

    requirement: Requirement
    hashes: frozenset[str]

    @property
    def name(self) -> str:
        """The normalized project name."""
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str:
        """The one version the line pins."""
        [spec] = self.requirement.specifier
        assert spec.operator == "==", self.requirement
        return spec.version


@cache
def lock_packages() -> tuple[dict[str, Any], ...]:
    """uv.lock's `[[package]]` tables (read once: the file is about a megabyte)."""
    return tuple(tomllib.loads(LOCK.read_text())["package"])


def locked_files(name: str, version: str) -> dict[str, str]:
    """Each file uv.lock records for one release: its hash to its file name (sdist and wheels)."""
    [package] = [p for p in lock_packages() if p["name"] == name and p.get("version") == version]
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    return {file["hash"]: file["url"].rsplit("/", 1)[-1] for file in files}


def export_pins(name: str) -> list[Pin]:
    """The pins of requirements/<name>.txt, in file order."""
    logical = re.sub(r"\\\n", " ", EXPORTS[name].read_text())
    pins = []
    for line in logical.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement, *hashes = (part.strip() for part in line.split("--hash="))
            pins.append(Pin(Requirement(requirement), frozenset(hashes)))
    return pins


def linux_tags(python: tuple[int, int], machine: str) -> set[Tag]:
    """The wheel tags pip accepts for CPython `python` on glibc 2.36 Linux (Debian bookworm) on `machine`."""
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(36, 4, -1)]
    platforms += [f"manylinux{legacy}_{machine}" for legacy in ("2014", "2010", "1")]
    platforms.append(f"linux_{machine}")
    return {*cpython_tags(python, platforms=platforms), *compatible_tags(python, platforms=platforms)}


def marker_env(python: tuple[int, int], machine: str) -> dict[str, str]:
    """The marker environment of CPython `python` on Linux on `machine`, with the extras none."""
    version = ".".join(map(str, python))
    return {
        "python_version": version,
        "python_full_version": f"{version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
        "extra": "",
    }
