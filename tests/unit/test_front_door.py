"""Services reach telemetry through `observability`'s front door only, and it instruments in one order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import FastAPI

from observability import NATIVE_TELEMETRY_OFF, TelemetrySettings, configure
from observability.faults.middleware import FaultMiddleware
from observability.logs.access import AccessLogMiddleware
from observability.otel.server import EdgeMiddleware
from observability.rollbar.middleware import ErrorReportingMiddleware

SERVICES = Path(__file__).resolve().parents[2] / "services"
FORBIDDEN = ("opentelemetry", "aws_xray_sdk", "rollbar", "watchtower")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def classes(app: FastAPI) -> list[object]:
    """The app's middleware classes, outermost first."""
    return [m.cls for m in app.user_middleware]


@pytest.mark.parametrize("path", sorted(SERVICES.rglob("*.py")), ids=lambda p: str(p.relative_to(SERVICES)))
def test_services_import_only_the_front_door(path: Path) -> None:
    """No service module imports a telemetry SDK or an `observability` submodule: only `observability`."""
    for name in imported_modules(path):
        assert not name.startswith(FORBIDDEN), f"{name} imported in services/"
        assert not name.startswith("observability."), name


def test_instrument_app_adds_the_middleware_in_the_one_order() -> None:
    """At the edge: the user and trace ids, then error reporting, then the access log, innermost last;
    the faults middleware only with FAULTS_ENABLED=true, at the edge as in internal services (with
    faults off the edge middleware drops a client's fault entries itself)."""
    telemetry = configure(TelemetrySettings(), service_name="gateway")
    app = FastAPI(telemetry=NATIVE_TELEMETRY_OFF)
    telemetry.instrument_app(app, edge=True)
    assert classes(app) == [EdgeMiddleware, ErrorReportingMiddleware, AccessLogMiddleware]
    faulty_edge = FastAPI(telemetry=NATIVE_TELEMETRY_OFF)
    configure(TelemetrySettings(faults_enabled=True), service_name="gateway").instrument_app(
        faulty_edge, edge=True
    )
    assert classes(faulty_edge) == [
        EdgeMiddleware,
        ErrorReportingMiddleware,
        AccessLogMiddleware,
        FaultMiddleware,
    ]
    internal = FastAPI(telemetry=NATIVE_TELEMETRY_OFF)
    telemetry.instrument_app(internal)
    assert classes(internal) == [ErrorReportingMiddleware, AccessLogMiddleware]
    faulty = FastAPI(telemetry=NATIVE_TELEMETRY_OFF)
    configure(TelemetrySettings(faults_enabled=True), service_name="users").instrument_app(faulty)
    assert classes(faulty) == [
        ErrorReportingMiddleware,
        AccessLogMiddleware,
        FaultMiddleware,
    ]


def test_instrument_app_refuses_an_app_with_fastapi_native_tracing() -> None:
    """An app built with FastAPI's own spans on would double every server span: refused, saying how."""
    telemetry = configure(TelemetrySettings(), service_name="users")
    with pytest.raises(ValueError, match="NATIVE_TELEMETRY_OFF"):
        telemetry.instrument_app(FastAPI())
