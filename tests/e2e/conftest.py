"""Fixtures for end-to-end tests: stand-ins first, then the three services as processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Stack, free_port, traced_env
from tests.standins.cloudwatch import CloudWatchStandIn
from tests.standins.otlp import OtlpReceiver
from tests.standins.rollbar import RollbarStandIn

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def traced_stack(tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver) -> Iterator[Stack]:
    """The three services exporting OTLP/HTTP to the local receiver, flushing every 100 ms.

    Shared by a module's tests: each test follows its own trace id, so they cannot see each other.
    """
    env = traced_env(otlp.endpoint)
    stack = Stack(tmp_path_factory.mktemp("stack"), env).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def cloudwatch() -> Iterator[CloudWatchStandIn]:
    standin = CloudWatchStandIn(free_port()).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def rollbar() -> Iterator[RollbarStandIn]:
    standin = RollbarStandIn().start()
    yield standin
    standin.stop()
