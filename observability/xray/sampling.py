"""One sampling decision per trace, made at the root from the X-Ray sampling rules, followed by both.

The root of a trace (no parent, or an `X-Amzn-Trace-Id` that asks this hop to decide) is sampled by
the X-Ray rules: the local rules file by default, the centralized rules polled from the daemon when
`XRAY_CENTRALIZED_SAMPLING` is on (the local file is then the fallback). Every other span follows its
parent (`ParentBased`), so downstream hops never decide again; X-Ray records a segment exactly when
the OTel server span is sampled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import get_current_span

from observability.otel.sampling import Candidate, DecidingSampler, ParentDecides
from observability.xray.header import incoming_header

log = logging.getLogger(__name__)


class RuleSampler(Protocol):
    """The SDK samplers' interface: a rule name or True to sample, False not to."""

    def should_trace(self, sampling_req: dict[str, Any] | None = None) -> Any: ...


def _first(attributes: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None  # the SDK's rules treat a missing field as matching


class XRayRulesSampler(DecidingSampler):
    """An OTel sampler whose decision is the X-Ray rules' for this service, host, method and path."""

    def __init__(self, rules: RuleSampler, service_name: str) -> None:
        self._rules = rules
        self._service = service_name

    def decide(self, candidate: Candidate) -> SamplingResult:
        attrs: Mapping[str, Any] = candidate.attributes or {}
        request = {
            "service": self._service,
            "host": _first(attrs, "server.address", "http.host", "net.host.name"),
            "method": _first(attrs, "http.request.method", "http.method"),
            "path": _first(attrs, "url.path", "http.target"),
        }
        try:
            sampled = bool(self._rules.should_trace(request))
        except Exception:
            log.warning("X-Ray sampling rules failed; not sampling this trace", exc_info=True)
            sampled = False
        parent_state = get_current_span(candidate.parent_context).get_span_context().trace_state
        return SamplingResult(
            Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP, trace_state=parent_state
        )

    def get_description(self) -> str:
        return "XRayRulesSampler"


def left_open(parent_context: Context | None, trace_id: int) -> bool:
    """Whether the request's `X-Amzn-Trace-Id` (of this trace) left sampling to this hop (`Sampled=?`)."""
    header = incoming_header(parent_context)
    return header is not None and header.sampled is None and header.trace_id == trace_id


def build_sampler(rules: RuleSampler, service_name: str) -> Sampler:
    """The process's sampler when X-Ray is on: the rules at the root, the parent's decision below.

    Args:
        rules: an X-Ray SDK sampler (local or centralized).
        service_name: the service name the rules match on.
    """
    return ParentDecides(XRayRulesSampler(rules, service_name), left_open=left_open)


def rule_sampler(local_rules: dict[str, Any], *, centralized: bool, daemon_address: str | None) -> Any:
    """The SDK's sampler for these rules; centralized ones start polling the daemon on first use.

    Args:
        local_rules: the local rules document (the only rules, or the fallback).
        centralized: poll the daemon's sampling API for the account's rules.
        daemon_address: the daemon (`host:port` or `tcp:... udp:...`).
    """
    from aws_xray_sdk.core.daemon_config import DaemonConfig
    from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
    from aws_xray_sdk.core.sampling.sampler import DefaultSampler

    from observability.xray.sdk.context import ContextVarContext

    if not centralized:
        return LocalSampler(local_rules)
    sampler = DefaultSampler()
    sampler.load_local_rules(local_rules)
    sampler.load_settings(DaemonConfig(daemon_address or "127.0.0.1:2000"), ContextVarContext())
    return sampler
