"""The W3C Trace Context conformance suite against a real service process on uvicorn.

The suite (`shared/w3c-trace-context/`, beside the repository) runs its harness on a free loopback
port and POSTs to `tests.w3c_service`, built with the project's middleware, propagator and client,
which calls the harness back; the suite then checks the `traceparent`/`tracestate` it received.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import REPO, ServiceProcess, base_env, free_port

pytestmark = pytest.mark.e2e

SUITE = REPO.parent / "shared" / "w3c-trace-context"
EXPECTED_TESTS = 41  # every test at STRICT_LEVEL=2 SPEC_LEVEL=2, at the suite's pinned commit
SUITE_TIMEOUT = 180.0


@pytest.fixture(params=["xray-off", "xray-on"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceProcess]:
    """The test service, with X-Ray off, or on (then `X-Amzn-Trace-Id` is read first, as at the edge)."""
    env = base_env()
    if request.param == "xray-on":
        env["XRAY_EXPORTER"] = "collector"  # X-Ray's rules and header, no exporter of its own
    process = ServiceProcess("w3c", env, tmp_path / "w3c.log", module="tests.w3c_service").start()
    yield process
    process.stop()


def run_suite(endpoint: str) -> subprocess.CompletedProcess[str]:
    """`python test.py <endpoint>` at the strictest levels, its harness on a free loopback port."""
    if not (SUITE / "test.py").is_file():
        pytest.fail(f"{SUITE} is missing: the W3C suite lives in shared/ beside the repository")
    env = base_env(STRICT_LEVEL="2", SPEC_LEVEL="2", HARNESS_HOST="127.0.0.1", HARNESS_PORT=str(free_port()))
    return subprocess.run(
        [sys.executable, "test.py", endpoint],
        cwd=SUITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        check=False,
    )


def test_w3c_trace_context_suite_passes_every_test(service: ServiceProcess) -> None:
    """All 41 tests of the W3C suite at Level 2, strict, run against the service and none fails."""
    result = run_suite(f"{service.url}/test")
    output = result.stdout + result.stderr
    ran = re.search(r"^Ran (\d+) tests? in", output, re.MULTILINE)
    failed = re.findall(r"^(?:FAIL|ERROR): (\S+)", output, re.MULTILINE)
    assert ran is not None, f"the suite did not finish:\n{output}\nservice log:\n{service.output()}"
    assert int(ran.group(1)) == EXPECTED_TESTS, output
    assert failed == [], f"{len(failed)} failed: {failed}\n{output}"
    assert result.returncode == 0 and re.search(r"^OK$", output, re.MULTILINE), output
