"""docker-compose.yml, checked without a Docker engine: the schema, each service's settings, the wiring."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import jsonschema
import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from observability.browser.settings import BROWSER_FACING_FIELDS
from services.activities.settings import ActivitiesSettings
from services.gateway.settings import GatewaySettings
from services.users.settings import UsersSettings
from tests.compose import APP_SERVICES, REPO, compose, raw_compose, service_env
from tests.dockerfile import image_env

SETTINGS: dict[str, type[BaseSettings]] = {
    "users": UsersSettings,
    "activities": ActivitiesSettings,
    "gateway": GatewaySettings,
    "loadgen": GatewaySettings,  # it mints its token with the gateway's settings
}
# Variables whose settings fields arrive with branches not merged here; the names are those DESIGN.md's
# configuration table and those branches use. Empty it as they merge:
# test_pending_variables_are_not_yet_settings fails for a name a settings class already reads.
# Read by botocore's credential chain (and the X-Ray daemon), never by the services' settings.
READ_BY_LIBRARIES = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})


def settings_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (field names, or their aliases)."""
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    names = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(prefix + str(alias or field.alias or name).upper())
    return names


def unknown_variables(names: set[str], cls: type[BaseSettings]) -> set[str]:
    """Names that nothing reads: not a setting, not pending, not a library's own."""
    return names - settings_names(cls) - READ_BY_LIBRARIES


def load(cls: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The settings object a container with exactly this environment builds."""
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cls()


def container_env(name: str) -> dict[str, str]:
    return {**image_env(), **service_env(compose(), name)}


def test_compose_file_matches_the_compose_specification() -> None:
    """docker-compose.yml, as written and as interpolated, is valid against the Compose Specification."""
    path = REPO.parent / "shared" / "compose" / "compose-spec.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: the Compose schema lives in shared/ beside the repository")
    validator = jsonschema.Draft7Validator(json.loads(path.read_text()))  # the schema's own draft
    for document in (raw_compose(), compose()):
        assert [e.message for e in validator.iter_errors(document)] == []
    broken = copy.deepcopy(compose())
    broken["services"]["gateway"]["enviroment"] = broken["services"]["gateway"].pop("environment")
    assert list(validator.iter_errors(broken)), "a misspelt compose key must not validate"


@pytest.mark.parametrize("name", [*APP_SERVICES, "loadgen"])
def test_every_compose_variable_is_read_by_the_service(name: str) -> None:
    """Each variable compose gives a service is a field of that service's settings class."""
    assert unknown_variables(set(service_env(compose(), name)), SETTINGS[name]) == set()


def test_a_misspelt_variable_is_caught() -> None:
    """A variable name no settings class reads is reported, even next to good ones."""
    names = {"USERS_URL", "USER_URL", "OTEL_EXPORTER_OTLP_ENDPIONT", "ROLLBAR_ACCESS_TOKEN"}
    assert unknown_variables(names, ActivitiesSettings) == {"USER_URL", "OTEL_EXPORTER_OTLP_ENDPIONT"}
    assert unknown_variables({"ACTIVITIES_URL"}, UsersSettings) == {"ACTIVITIES_URL"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_service_loads_its_compose_environment(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image's and compose's environment build the service's settings: listening on all interfaces,
    on the port compose exposes, tracing to the collector, and nothing pointing at the container itself."""
    settings = load(SETTINGS[name], container_env(name), monkeypatch)
    assert settings.host == "0.0.0.0"
    assert str(settings.port) in compose()["services"][name]["expose"]
    assert settings.exporting
    assert settings.otlp_traces_endpoint() == "http://otel-collector:4318/v1/traces"
    values = [str(v) for k, v in settings.model_dump().items() if k not in BROWSER_FACING_FIELDS]
    assert not [v for v in values if "127.0.0.1" in v or "localhost" in v]


def test_token_minting_in_loadgen_loads_gateway_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The load generator mints its token with the gateway's settings and the same AUTH_SECRET source."""
    gateway, loadgen = (service_env(compose(), n) for n in ("gateway", "loadgen"))
    for name in ("AUTH_SECRET", "ENVIRONMENT"):
        assert loadgen[name] == gateway[name]
    minted_with = load(GatewaySettings, loadgen, monkeypatch).secret
    assert minted_with == load(GatewaySettings, gateway, monkeypatch).secret


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`KEY=` (as `${KEY:-}` passes it) is unset: no Honeycomb export with an empty key, no refused secret."""
    empty = {"HONEYCOMB_API_KEY": "", "OTEL_EXPORTER_OTLP_ENDPOINT": "", "AUTH_SECRET": "", "PORT": ""}
    settings = load(GatewaySettings, empty, monkeypatch)
    assert settings.honeycomb_api_key is None and not settings.exporting
    assert settings.port == 8000
    assert settings.secret == load(GatewaySettings, {}, monkeypatch).secret
