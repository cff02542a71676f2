"""The lock: uv.lock, its pip exports and the Dockerfile agree, and every pin installs from a wheel on Linux.

`make check-lock` (run by `make install` and so by CI) asks uv itself whether pyproject.toml and uv.lock
agree and re-exports requirements/; these tests hold without uv or a network, and pin what uv does not:
which install gets which extras, and that Linux on x86_64 and arm64 needs no compiler.
"""

from __future__ import annotations

import shlex
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.compose import REPO
from tests.dockerfile import dockerfile_instructions
from tests.lockfile import EXPORTS, export_pins, linux_tags, lock_packages, locked_files, marker_env

TEST_TOOLS = {"pytest-asyncio", "mypy", "ruff", "moto", "uv", "py-spy"}
PYTHONS = [(3, 11), (3, 12), (3, 13), (3, 14)]


def names(export: str) -> set[str]:
    """The project names requirements/<export>.txt pins."""
    return {pin.name for pin in export_pins(export)}


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_each_export_pins_a_locked_release_with_all_its_hashes(export: str) -> None:
    """Every line of a pip export is a release uv.lock pins, accepting exactly the files uv.lock records."""
    pins = export_pins(export)
    assert pins
    for pin in pins:
        assert pin.hashes == set(locked_files(pin.name, pin.version)), pin.requirement


def test_pyproject_ranges_admit_every_locked_version() -> None:
    """Each dependency and extra in pyproject.toml accepts the version uv.lock pins for it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    locked = {(p["name"], p["version"]) for p in lock_packages() if "version" in p}
    for requirement in wanted:
        versions = [v for name, v in locked if name == canonicalize_name(requirement.name)]
        assert versions and all(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            requirement
        )


def test_the_image_gets_no_test_tools_and_only_the_load_generator_gets_locust() -> None:
    """app.txt is the services alone; dev.txt adds the test tools, load.txt Locust, both at the same pins."""
    app, dev, load = names("app"), names("dev"), names("load")
    assert {"fastapi", "opentelemetry-sdk", "uvloop"} <= app
    assert not (TEST_TOOLS | {"pytest", "locust"}) & app
    assert app | TEST_TOOLS | {"pytest"} <= dev and "locust" not in dev
    assert app | {"locust"} <= load and not TEST_TOOLS & load  # (Locust itself depends on pytest)
    pins = {(pin.name, pin.version, str(pin.requirement.marker)) for pin in export_pins("app")}
    assert pins <= {(p.name, p.version, str(p.requirement.marker)) for p in export_pins("dev")}
    assert pins <= {(p.name, p.version, str(p.requirement.marker)) for p in export_pins("load")}


def test_dockerfile_installs_only_what_the_lock_pins() -> None:
    """Each pip install in the image is a hash-checked export of uv.lock, or the project without deps."""
    installs = set()
    for stage, instruction, args in dockerfile_instructions():
        if instruction == "RUN":
            for command in args.split("&&"):
                words = shlex.split(command)
                if words[1:3] == ["install", "--require-hashes"] or words[1:2] == ["install"]:
                    installs.add((stage, " ".join(words[2:])))
    assert installs == {
        ("build", "--require-hashes -r requirements/app.txt"),
        ("build", "--no-deps ."),
        ("loadgen", "--require-hashes -r /tmp/load.txt"),
    }


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("python", PYTHONS, ids=lambda v: "py" + ".".join(map(str, v)))
def test_every_pin_installs_from_a_wheel_on_linux(python: tuple[int, int], machine: str) -> None:
    """Every package the dev and load installs take on that Python and CPU has a wheel in uv.lock that
    pip accepts on Debian bookworm, so the slim image and CI never need a compiler."""
    tags, env = linux_tags(python, machine), marker_env(python, machine)
    for export in ("dev", "load"):
        for pin in export_pins(export):
            if pin.requirement.marker is None or pin.requirement.marker.evaluate(env):
                files = locked_files(pin.name, pin.version).values()
                wheels = [parse_wheel_filename(f)[3] for f in files if f.endswith(".whl")]
                assert any(tags & wheel for wheel in wheels), f"{pin.requirement}: no wheel for {env}"
