"""The fault grammar: one baggage entry is one fault, parsed strictly and bounded.

    fault.<service>[.<route>]=<kind>[:<arg>][;p=<probability>]

    fault.users=delay:400ms                  every users request waits 400 ms
    fault.users.get_user=delay:200ms-900ms   only users' `get_user` route, 200 to 900 ms (uniform)
    fault.activities=status:503;p=0.5        half of activities' requests answer 503
    fault.activities=timeout                 activities hangs until its caller gives up
    fault.users=drop                         users closes the connection without an answer
    fault.users=slow_query:300ms             users' first database statement takes 300 ms longer

- service: `[a-z][a-z0-9_-]{0,31}`; route: a route's name (its handler's name), `[A-Za-z_][A-Za-z0-9_]{0,63}`.
- durations: a number then `ms` or `s` (`250ms`, `1.5s`); `a-b` is uniform between a and b (jitter).
  Durations beyond the cap (`FAULTS_MAX_DELAY`) are cut to it.
- kinds and their argument: `delay:<duration>` and `slow_query:<duration>` (required), `status:<400-599>`
  (required), `timeout[:<duration>]` (the longest hang; default the cap), `drop` (none).
- `p`: a probability in [0, 1] (default 1), the only parameter, at most once.
- a value longer than 64 characters is refused; at most 8 fault entries of a request are read.

Anything else raises `FaultSyntaxError`; the caller ignores that entry and logs it, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

PREFIX = "fault."
MAX_VALUE_LENGTH = 64
MAX_ENTRIES = 8

Kind = Literal["delay", "status", "timeout", "drop", "slow_query"]
KINDS: tuple[Kind, ...] = ("delay", "status", "timeout", "drop", "slow_query")
TERMINAL: frozenset[str] = frozenset({"status", "timeout", "drop"})

_SERVICE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_ROUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_DURATION = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)(ms|s)")
_PROBABILITY = re.compile(r"(?:0(?:\.\d{1,6})?|1(?:\.0{1,6})?|\.\d{1,6})")


class FaultSyntaxError(ValueError):
    """A baggage entry that starts with `fault.` but is not a fault by the grammar."""


@dataclass(frozen=True)
class Fault:
    """One parsed fault: what to do, to which service (and route), how often.

    `delay` is the (low, high) range in seconds, already capped; `status` the code to answer.
    """

    service: str
    route: str | None
    kind: Kind
    delay: tuple[float, float] | None = None
    status: int | None = None
    probability: float = 1.0
    spec: str = ""

    def applies_to(self, service: str, route: str | None) -> bool:
        """Whether it is addressed to `service` and, if it names one, to `route`."""
        return self.service == service and (self.route is None or self.route == route)


def is_fault_key(key: str) -> bool:
    """Whether a baggage key is a fault entry (`fault.` then anything)."""
    return key.startswith(PREFIX)


def parse_duration(text: str, cap: float) -> float:
    """Seconds of `250ms` or `1.5s`, cut to `cap`; `FaultSyntaxError` for anything else."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise FaultSyntaxError(f"bad duration {text!r} (want e.g. 250ms or 1.5s)")
    number, unit = float(match.group(1)), match.group(2)
    return min(number / 1000 if unit == "ms" else number, cap)


def _range(text: str, cap: float) -> tuple[float, float]:
    low, sep, high = text.partition("-")
    first = parse_duration(low, cap)
    last = parse_duration(high, cap) if sep else first
    if last < first:
        raise FaultSyntaxError(f"bad range {text!r} (the first bound is the smaller)")
    return first, last


def parse_key(key: str) -> tuple[str, str | None]:
    """The service and route a fault key addresses."""
    if not is_fault_key(key):
        raise FaultSyntaxError(f"not a fault key: {key[:40]!r}")
    service, _, route = key[len(PREFIX) :].partition(".")
    if _SERVICE.fullmatch(service) is None:
        raise FaultSyntaxError(f"bad service in {key[:80]!r}")
    if route and _ROUTE.fullmatch(route) is None:
        raise FaultSyntaxError(f"bad route in {key[:80]!r}")
    return service, route or None


def parse(key: str, value: str, *, cap: float) -> Fault:
    """One fault from one baggage entry.

    Args:
        key: the entry's key (`fault.users` or `fault.users.get_user`).
        value: its value, as the baggage propagator decoded it (`delay:400ms;p=0.5`).
        cap: the longest delay or hang, in seconds (`FAULTS_MAX_DELAY`).

    Raises:
        FaultSyntaxError: the entry is not a fault by the grammar.
    """
    service, route = parse_key(key)
    if len(value) > MAX_VALUE_LENGTH:
        raise FaultSyntaxError(f"value of {key} longer than {MAX_VALUE_LENGTH} characters")
    head, *params = (part.strip(" \t") for part in value.split(";"))  # W3C allows spaces around `;`
    kind, sep, arg = head.partition(":")
    if kind not in KINDS:
        raise FaultSyntaxError(f"unknown kind {kind[:20]!r} in {key} (one of {', '.join(KINDS)})")
    probability = _probability(params, key)
    fault = Fault(service, route, kind, probability=probability, spec=f"{key}={value.strip()}")
    if kind in ("delay", "slow_query"):
        if not arg:
            raise FaultSyntaxError(f"{kind} needs a duration in {key} ({kind}:400ms)")
        return replace(fault, delay=_range(arg, cap))
    if kind == "status":
        if not re.fullmatch(r"[45]\d\d", arg):
            raise FaultSyntaxError(f"status needs a code 400-599 in {key} (status:503)")
        return replace(fault, status=int(arg))
    if kind == "timeout":
        return replace(fault, delay=_range(arg, cap) if arg else (cap, cap))
    if sep:
        raise FaultSyntaxError(f"drop takes no argument in {key}")
    return fault


def _probability(params: list[str], key: str) -> float:
    if len(params) > 1:
        raise FaultSyntaxError(f"at most one parameter (p=) in {key}")
    if not params:
        return 1.0
    name, sep, text = params[0].strip().partition("=")
    if name != "p" or not sep or _PROBABILITY.fullmatch(text) is None:
        raise FaultSyntaxError(f"bad parameter {params[0][:20]!r} in {key} (want p=0.5)")
    return float(text)


def faults_in(
    entries: Iterable[tuple[str, object]], *, cap: float, service: str, bad_keys: bool = False
) -> tuple[list[Fault], list[str]]:
    """The faults a request's baggage addresses to `service`, and why each refused one was refused.

    Args:
        entries: the baggage, in order (keys that are not `fault.` are skipped; the first
            `MAX_ENTRIES` fault entries are read, whoever they address).
        cap: the longest delay or hang, in seconds.
        service: the service reading them; entries for others are left alone (they travel on).
        bad_keys: also refuse entries whose key addresses no valid service (the edge says so once).
    """
    found: list[Fault] = []
    refused: list[str] = []
    count = 0
    for key, value in entries:
        if not is_fault_key(key):
            continue
        count += 1
        if count > MAX_ENTRIES:
            refused.append(f"more than {MAX_ENTRIES} fault entries: the rest are ignored")
            break
        try:
            addressed, _ = parse_key(key)
        except FaultSyntaxError as error:
            if bad_keys:
                refused.append(str(error))
            continue
        if addressed != service:
            continue
        try:
            found.append(parse(key, str(value), cap=cap))
        except FaultSyntaxError as error:
            refused.append(str(error))
    return found, refused
