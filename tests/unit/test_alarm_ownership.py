"""Rendezvous hashing of alarms to replicas: balance, minimal movement, agreement (pure, no I/O)."""

from __future__ import annotations

from collections import Counter

import pytest

from services.alarm.ownership import owner, weight

ALARMS = [(f"acct-{i % 37}", f"alarm-{i}") for i in range(10_000)]
MEMBERS = ["alarm-0", "alarm-1", "alarm-2"]


def _assign(members: list[str]) -> dict[tuple[str, str], str | None]:
    return {key: owner(members, *key) for key in ALARMS}


def test_three_members_share_10000_alarms_evenly():
    counts = Counter(_assign(MEMBERS).values())
    assert set(counts) == set(MEMBERS)
    # 1/3 each; the binomial standard deviation is ~47, so 5 % (±167) is far out of chance's reach.
    for member in MEMBERS:
        assert abs(counts[member] - 10_000 / 3) < 0.05 * 10_000, counts


def test_a_leaving_member_moves_only_its_own_alarms():
    before = _assign(MEMBERS)
    after = _assign(["alarm-0", "alarm-2"])
    moved = {key for key in ALARMS if before[key] != after[key]}
    assert moved == {key for key in ALARMS if before[key] == "alarm-1"}
    # And what it held is spread over the two that remain, not dumped on one.
    spread = Counter(after[key] for key in moved)
    assert min(spread.values()) > 0.4 * len(moved), spread


def test_a_joining_member_takes_only_its_share():
    before = _assign(MEMBERS)
    after = _assign([*MEMBERS, "alarm-3"])
    moved = [key for key in ALARMS if before[key] != after[key]]
    assert all(after[key] == "alarm-3" for key in moved)
    assert abs(len(moved) - 10_000 / 4) < 0.05 * 10_000


def test_the_answer_does_not_depend_on_the_order_members_are_listed():
    for key in ALARMS[:500]:
        assert owner(MEMBERS, *key) == owner(list(reversed(MEMBERS)), *key)


def test_the_key_is_the_account_and_the_name_not_their_concatenation():
    # ("a", "bc") and ("ab", "c") are different alarms: the separator keeps them apart.
    assert weight("alarm-0", "a", "bc") != weight("alarm-0", "ab", "c")


def test_the_score_is_a_fixed_function_of_its_inputs():
    # Pinned: Python's hash() is salted per process, and any change of the function would make
    # replicas of two versions disagree during a rolling update (both would own some alarms).
    assert weight("alarm-0", "acct", "cpu-high") == 8130608274554868721


@pytest.mark.parametrize("members", [[], ["only"]])
def test_no_member_owns_nothing_and_one_member_owns_all(members):
    assert {owner(members, *key) for key in ALARMS[:100]} == ({None} if not members else {"only"})
