"""The fixture every test gets: a clean environment (the in-process fixtures are in inprocess/conftest.py)."""

from __future__ import annotations

import os

import pytest

from services.activities.settings import ActivitiesSettings
from services.gateway.settings import GatewaySettings
from services.users.settings import UsersSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: no variable of the developer's shell may steer a test."""
    fields = set()
    for cls in (GatewaySettings, ActivitiesSettings, UsersSettings):
        fields |= {name.upper() for name in cls.model_fields}
    for name in list(os.environ):
        if name.upper() in fields or name.startswith(("OTEL_", "AWS_", "ROLLBAR_", "HONEYCOMB_")):
            monkeypatch.delenv(name)
