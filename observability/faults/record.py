"""A fault that fired, made visible: on the span of the hop (event and attributes), and in the log line.

The attributes `fault.injected` and `fault.kind` are among the X-Ray annotations the server span names
(`observability.otel.server.XRAY_ANNOTATIONS`), so X-Ray can search them; an injected error's Rollbar
item carries `custom.fault` (`observability.rollbar.reporter`).
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from observability.faults.grammar import Fault

log = logging.getLogger("cruddur.faults")

INJECTED = "fault.injected"
KIND = "fault.kind"


class InjectedFault(Exception):
    """The error a fault injects on purpose; its Rollbar item and log line say so.

    Args:
        fault: the fault that fired.
        service: the service it fired in.
    """

    def __init__(self, fault: Fault, service: str) -> None:
        self.fault = fault
        self.service = service
        super().__init__(f"injected fault in {service}: {fault.spec}")

    def details(self) -> dict[str, Any]:
        """What Rollbar's `custom.fault` and the log line say about it."""
        return {"injected": True, "kind": self.fault.kind, "spec": self.fault.spec, "service": self.service}


def fired(
    fault: Fault, service: str, span: trace.Span | None = None, *, seconds: float | None = None
) -> None:
    """Mark `span` (the current one by default) and log one line: `fault` fired in `service`.

    Args:
        fault: the fault.
        service: where it fired.
        span: the span of the hop (a database statement's for `slow_query`).
        seconds: the delay or hang it adds, if any.
    """
    try:
        span = span if span is not None else trace.get_current_span()
        attributes: dict[str, Any] = {
            INJECTED: True,
            KIND: fault.kind,
            "fault.spec": fault.spec,
            "fault.service": service,
        }
        if seconds is not None:
            attributes["fault.delay_ms"] = round(seconds * 1000, 1)
        if fault.status is not None:
            attributes["fault.status"] = fault.status
        if span.is_recording():
            span.set_attributes(attributes)
            span.add_event(INJECTED, attributes)
            if fault.kind in ("timeout", "drop") or (fault.status or 0) >= 500:
                span.set_status(Status(StatusCode.ERROR, f"injected {fault.kind}"))
        log.warning(
            "injected fault %s in %s",
            fault.spec,
            service,
            extra={"fault_injected": True, "fault_kind": fault.kind, "fault_spec": fault.spec},
        )
    except Exception:  # making a fault visible must never change what the fault does
        log.debug("could not record a fault", exc_info=True)
