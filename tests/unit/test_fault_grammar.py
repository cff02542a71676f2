"""The fault grammar: good entries parse to what they say, anything else is refused, everything is bounded."""

from __future__ import annotations

import pytest

from observability.faults.grammar import MAX_ENTRIES, Fault, FaultSyntaxError, faults_in, parse

CAP = 10.0


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("fault.users", "delay:400ms", Fault("users", None, "delay", delay=(0.4, 0.4))),
        ("fault.users", "delay:1.5s", Fault("users", None, "delay", delay=(1.5, 1.5))),
        ("fault.users", "delay:200ms-900ms", Fault("users", None, "delay", delay=(0.2, 0.9))),
        ("fault.users.get_user", "delay:1s", Fault("users", "get_user", "delay", delay=(1.0, 1.0))),
        (
            "fault.activities",
            "status:503;p=0.5",
            Fault("activities", None, "status", status=503, probability=0.5),
        ),
        ("fault.activities", "status:404", Fault("activities", None, "status", status=404)),
        ("fault.activities", "timeout", Fault("activities", None, "timeout", delay=(CAP, CAP))),
        ("fault.activities", "timeout:2s", Fault("activities", None, "timeout", delay=(2.0, 2.0))),
        ("fault.users", "drop;p=1", Fault("users", None, "drop", probability=1.0)),
        ("fault.users", "slow_query:300ms", Fault("users", None, "slow_query", delay=(0.3, 0.3))),
        (
            "fault.users",
            " delay:5ms ;p=.25",
            Fault("users", None, "delay", delay=(0.005, 0.005), probability=0.25),
        ),
    ],
)
def test_good_entries_parse_to_what_they_say(key: str, value: str, expected: Fault) -> None:
    """Each documented form parses to its service, route, kind, argument and probability."""
    fault = parse(key, value, cap=CAP)
    assert fault == Fault(**{**expected.__dict__, "spec": f"{key}={value.strip()}"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("fault.users", "explode"),  # unknown kind
        ("fault.users", "DELAY:1s"),  # kinds are lower case
        ("fault.users", "delay"),  # delay needs a duration
        ("fault.users", "delay:400"),  # a duration needs a unit
        ("fault.users", "delay:-1s"),
        ("fault.users", "delay:1m"),
        ("fault.users", "delay:900ms-200ms"),  # a range goes up
        ("fault.users", "delay:1s-"),
        ("fault.users", "status"),
        ("fault.users", "status:200"),  # not an error
        ("fault.users", "status:600"),
        ("fault.users", "status:50x"),
        ("fault.users", "drop:1s"),  # drop takes no argument
        ("fault.users", "slow_query"),
        ("fault.users", "delay:1s;p=2"),  # a probability is at most 1
        ("fault.users", "delay:1s;p=-0.1"),
        ("fault.users", "delay:1s;p=nan"),
        ("fault.users", "delay:1s;q=0.5"),  # unknown parameter
        ("fault.users", "delay:1s;p=0.5;p=0.5"),  # at most one
        ("fault.users", "delay:1s;p"),
        ("fault.Users", "delay:1s"),  # service names are lower case
        ("fault.", "delay:1s"),
        ("fault.users.get/user", "delay:1s"),
        ("fault.users.get_user.x", "delay:1s"),
        ("fault.users", ""),
    ],
)
def test_malformed_entries_are_refused(key: str, value: str) -> None:
    """Anything outside the grammar raises FaultSyntaxError, naming what is wrong."""
    with pytest.raises(FaultSyntaxError):
        parse(key, value, cap=CAP)


def test_delays_beyond_the_cap_are_cut_to_it() -> None:
    """A delay, a jitter bound or a hang longer than the cap waits the cap, no longer."""
    assert parse("fault.users", "delay:999999s", cap=CAP).delay == (CAP, CAP)
    assert parse("fault.users", "delay:1s-99s", cap=CAP).delay == (1.0, CAP)
    assert parse("fault.users", "timeout:1000s", cap=2.0).delay == (2.0, 2.0)


def test_oversized_values_are_refused() -> None:
    """A value over 64 characters is refused before it is read, however valid its start."""
    with pytest.raises(FaultSyntaxError, match="longer than 64"):
        parse("fault.users", "delay:1s;p=0." + "5" * 60, cap=CAP)
    with pytest.raises(FaultSyntaxError):
        parse("fault.users", "delay:" + "9" * 20 + "ms", cap=CAP)


def test_a_service_reads_only_its_own_entries() -> None:
    """Entries for other services and other baggage are left alone; a malformed own entry is refused."""
    baggage = [
        ("enduser.id", "worf"),
        ("fault.activities", "status:503"),
        ("fault.users", "delay:10ms"),
        ("fault.users.get_user", "nonsense"),
        ("fault.activities", "not even checked here"),
    ]
    found, refused = faults_in(baggage, cap=CAP, service="users")
    assert [(f.service, f.route, f.kind) for f in found] == [("users", None, "delay")]
    assert len(refused) == 1 and "nonsense" in refused[0]


def test_bad_keys_are_reported_only_where_asked() -> None:
    """A key that addresses no valid service is refused at the edge and silently skipped elsewhere."""
    baggage = [("fault.BAD", "delay:1s")]
    assert faults_in(baggage, cap=CAP, service="gateway", bad_keys=True)[1] != []
    assert faults_in(baggage, cap=CAP, service="users") == ([], [])


def test_fault_entries_beyond_the_limit_are_ignored() -> None:
    """Only the first MAX_ENTRIES fault entries of a request are read; the rest are ignored, once said."""
    baggage = [("fault.users", f"delay:{n}ms") for n in range(1, MAX_ENTRIES + 5)]
    found, refused = faults_in(baggage, cap=CAP, service="users")
    assert [f.delay for f in found] == [(n / 1000, n / 1000) for n in range(1, MAX_ENTRIES + 1)]
    assert refused == [f"more than {MAX_ENTRIES} fault entries: the rest are ignored"]
