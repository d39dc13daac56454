"""Which replica of the alarm service evaluates which alarm: membership by heartbeat, ownership by hash.

The alarm service runs as a StatefulSet; each replica knows its own id (the pod name, from
``STACKWATCH_ALARM_REPLICA_ID``). Every replica writes a heartbeat row into the ``members`` table
of the alarm service's own database every ``interval`` seconds and reads the table back::

    members   one row per heartbeat                       ReplacingMergeTree(version)
              (member, version, started_ms, beat_ms, left) ORDER BY member

Reads take the latest row of each member with ``argMax(..., version)`` (as :mod:`services.alarm.store`
does), times are ``UInt64`` milliseconds; the table is the same on ClickHouse 18.16 and chDB.

**Who counts.** A member is an *owner* at time ``now`` when its latest row is not ``left``, its
last heartbeat is younger than ``timeout`` (3 heartbeat intervals by default) and it started at
least ``settle`` seconds ago (2 intervals). **Which alarm is whose.** The owner of an alarm is the
rendezvous (highest-random-weight) hash of ``(account, alarm name)`` over the owners: each owner
scores the key with a 64-bit BLAKE2b of ``member, account, name`` and the highest score wins. When a
member joins or leaves, only the keys it wins or held move (about 1/n of them); no coordinator, no
ring to rebalance, and every replica computes the same answer from the same rows.

**Never two evaluators (the protocol).** Rows are read by every replica after each heartbeat, and
both boundaries of the owner set are instants written in the rows, not moments a replica happens
to notice:

* *joining*: a new member's first row names ``started_ms``; it counts from ``started + settle``, by
  every replica's clock, itself included. ``settle`` (2 intervals) is longer than the time every
  other replica needs to read the row (one interval plus a read), so all of them switch the
  moved keys at the same instant, give or take clock skew.
* *leaving*: ``stop()`` first stops owning (:meth:`Membership.owns` answers False from then on),
  then writes a ``left`` row; the others take the keys over when they read it. In between nobody
  evaluates those keys (a gap of one interval at most), never two.
* *dying or being cut off from the database* (the split-brain case): the others drop a member
  ``timeout`` after its last heartbeat row. The member itself stops owning anything
  ``timeout - interval`` after its last heartbeat that was written (self-fencing: a replica that
  cannot write its heartbeat does not know whether it has been replaced), so it has stopped one
  interval before anybody takes over.

A restarted pod keeps its id; if its previous incarnation's row is still live (a crash, not a
``stop()``), the new one keeps that ``started_ms`` and owns at once: nobody else had taken its keys.

**What is left, and why the write path makes it harmless.** The protocol assumes clocks agree to
well under one interval (NTP keeps them within milliseconds) and that one evaluation finishes well
within an interval; an evaluation that began just before its replica lost a key may still write
after the new owner's first evaluation, and a replica that hangs (GC, a stopped VM) past the fence
may wake and write once before it re-checks. Two evaluations of one alarm are then possible, rarely,
and the write path is built to absorb them:

* the state is one row per alarm in a ReplacingMergeTree keyed by ``(account, name)``: two writers
  of the same decision leave one state, and the newer version wins otherwise;
* each evaluation re-reads the alarm's current state just before deciding (the writer does), so an
  evaluation that follows another's write sees the new state and changes nothing: a transition,
  and its actions, happen once unless both read the old state inside the same few milliseconds;
* actions carry the idempotency key ``alarm ARN + transition time``
  (:func:`services.alarm.domain.action_key`). The transition time is the evaluation's ``now``,
  so two racing evaluations produce the same key only if they evaluate at the same instant; a
  scheduler that evaluates at a deterministic instant (the end of the closed period, not the wall
  clock) makes duplicate evaluations of the same data produce the same key, which the receiver
  (autoscale, a webhook) de-duplicates. That is the scheduler's part to choose;
* the scheduler re-checks :meth:`Membership.owns` just before it writes, which closes the window of
  an evaluation in flight across a change (the :attr:`Membership.generation` counter tells it that
  something changed).

Two processes configured with the same replica id defeat all of this: the StatefulSet's pod names
guarantee uniqueness in Kubernetes.

**One process** (``stackwatch up``, no replica id configured) owns everything: :meth:`Membership.owns`
is always True, and nothing is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from stackwatch import errors, retry
from stackwatch.clock import Clock
from stackwatch.store import AsyncEngine, Row, Schema, Step, identifier

LOG = logging.getLogger(__name__)

MEMBER_COLUMNS = ("member", "version", "started_ms", "beat_ms", "left")
#: Rows of members silent for longer than this are not read back (they left or died long ago).
FORGET_AFTER_S = 86_400.0


def ddl(db: str) -> str:
    """``CREATE TABLE`` of the heartbeat table (the same on every engine version)."""
    return f"""
CREATE TABLE IF NOT EXISTS {db}.members (
    member String, version UInt64, started_ms UInt64, beat_ms UInt64, left UInt8
) ENGINE = ReplacingMergeTree(version) ORDER BY member"""


def weight(member: str, account: str, name: str) -> int:
    """The rendezvous score of ``member`` for the alarm ``(account, name)``: 64 bits of BLAKE2b."""
    digest = hashlib.blake2b(f"{member}\x00{account}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(members: Sequence[str], account: str, name: str) -> str | None:
    """The member that owns the alarm ``(account, name)``: the highest score (ties: the larger id)."""
    if not members:
        return None
    return max(members, key=lambda m: (weight(m, account, name), m))


@dataclass(frozen=True, slots=True)
class Member:
    """A member's latest heartbeat row.

    Attributes:
        member: the replica id.
        started_ms: when this incarnation started (epoch ms).
        beat_ms: its last heartbeat (epoch ms).
        left: True once it stopped cleanly.
    """

    member: str
    started_ms: int
    beat_ms: int
    left: bool


class Membership:
    """This replica's heartbeat, the live members, and whether this replica owns an alarm.

    Args:
        engine: the store engine (the alarm service's).
        database: the alarm service's database.
        replica_id: this replica's id; empty means a single process that owns every alarm.
        clock: the time source (heartbeat times, liveness).
        interval: seconds between heartbeats.
        timeout: seconds without a heartbeat after which a member is dead (default 3 intervals).
        settle: seconds a new member waits before it owns anything (default 2 intervals).
    """

    def __init__(self, engine: AsyncEngine, database: str, replica_id: str, clock: Clock, interval: float,
                 timeout: float | None = None, settle: float | None = None) -> None:
        self._engine = engine
        self._db = identifier(database)
        self.replica_id = replica_id
        self._clock = clock
        self.interval = interval
        self.timeout = 3 * interval if timeout is None else timeout
        self.settle = 2 * interval if settle is None else settle
        if not 0 < interval < self.timeout or self.settle <= interval:
            raise ValueError("need 0 < interval < timeout and settle > interval")
        self._rows: dict[str, Member] = {}
        self._started_ms = 0
        self._last_ok: float | None = None  # time written in our last successful heartbeat
        self._stopping = False
        self._version = 0
        self._owners: tuple[str, ...] = (replica_id,) if not replica_id else ()
        self._valid_until = math.inf if not replica_id else -math.inf
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.generation = 0
        """Incremented whenever the set of owners changes: re-check :meth:`owns` when it moves."""

    @property
    def single(self) -> bool:
        """True when no replica id is configured: this process owns every alarm."""
        return not self.replica_id

    # ----------------------------------------------------------------------------------------
    # Ownership

    def members(self) -> list[str]:
        """The owners right now (live and settled), sorted; ``[""]`` for a single process."""
        return list(self._current())

    def owns(self, account: str, name: str) -> bool:
        """True when this replica is the one that evaluates the alarm ``(account, name)`` now."""
        if self.single:
            return True
        owners = self._current()
        return self.replica_id in owners and owner(owners, account, name) == self.replica_id

    async def wait_changed(self, generation: int) -> int:
        """Wait until :attr:`generation` differs from ``generation``; the new generation."""
        while self.generation == generation:
            await self._changed.wait()
        return self.generation

    def _current(self) -> tuple[str, ...]:
        now = self._clock.now()
        if now < self._valid_until:
            return self._owners
        owners, next_change = self._compute(now)
        self._valid_until = next_change
        if owners != self._owners:
            LOG.info("alarm owners: %s -> %s", ",".join(self._owners) or "-", ",".join(owners) or "-")
            self._owners = owners
            self.generation += 1
            self._changed.set()  # wakes every waiter; later waiters wait on a fresh event
            self._changed = asyncio.Event()
        return owners

    def _compute(self, now: float) -> tuple[tuple[str, ...], float]:
        """The owners at ``now`` and the next instant that may change them."""
        owners, boundaries = [], [now + self.interval]  # re-read at least once an interval
        for m in self._rows.values():
            if m.left or m.member == self.replica_id:
                continue
            settles, expires = m.started_ms / 1000 + self.settle, m.beat_ms / 1000 + self.timeout
            if settles <= now < expires:
                owners.append(m.member)
            boundaries += [t for t in (settles, expires) if t > now]
        if self._last_ok is not None and not self._stopping:
            settles = self._started_ms / 1000 + self.settle
            fenced = self._last_ok + self.timeout - self.interval
            if settles <= now < fenced:
                owners.append(self.replica_id)
            boundaries += [t for t in (settles, fenced) if t > now]
        return tuple(sorted(owners)), min(boundaries)

    # ----------------------------------------------------------------------------------------
    # Heartbeats

    async def start(self, *, loop: bool = True) -> None:
        """Create the table, write the first heartbeat, start the heartbeat loop (single: nothing).

        Args:
            loop: run the heartbeat loop (False: the caller calls :meth:`beat`, as tests on a
                fake clock do).
        """
        if self.single:
            return
        async def tables(schema: Schema) -> None:
            await schema.create_table(ddl(self._db))

        await Schema(self._engine, self._db).migrate("members", [Step(1, "members", tables)])
        await self.refresh()
        now = self._clock.now()
        previous = self._rows.get(self.replica_id)
        if previous is not None and not previous.left and now - previous.beat_ms / 1000 < self.timeout:
            self._started_ms = previous.started_ms  # a restart after a crash: nobody took our keys
        else:
            self._started_ms = round(now * 1000)
        [(newest,)] = await self._engine.execute(
            f"SELECT max(version) FROM {self._db}.members WHERE member = %(m)s SETTINGS skip_unavailable_shards = 1",
            {"m": self.replica_id})
        self._version = int(newest)
        await self.beat()
        if loop:
            self._task = asyncio.create_task(self._loop(), name="alarm-heartbeat")

    async def stop(self) -> None:
        """Stop owning, stop the loop, and tell the others this replica left (best effort)."""
        if self.single:
            return
        self._stopping = True
        self._valid_until = -math.inf
        self._current()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self._write(left=True)
        except errors.StackWatchError as e:  # the others drop us after the timeout instead
            LOG.warning("alarm replica %s: could not record leaving: %s", self.replica_id, e)

    async def beat(self) -> None:
        """Write one heartbeat (retried while the store is unavailable) and read the members back."""
        now = self._clock.now()
        await self._write(left=False, now=now)
        self._last_ok = max(self._last_ok or now, now)
        await self.refresh()

    async def refresh(self) -> None:
        """Read every member's latest row."""
        since = round((self._clock.now() - FORGET_AFTER_S) * 1000)

        async def read() -> list[Row]:
            return list(await self._engine.execute(
                "SELECT member, argMax(started_ms, version), argMax(beat_ms, version), argMax(left, version)"
                f" FROM {self._db}.members GROUP BY member HAVING max(beat_ms) >= %(since)s"
                # on a cluster every shard holds the heartbeats: one that is down is not needed
                " SETTINGS skip_unavailable_shards = 1",
                {"since": max(since, 0)}))

        rows = await retry.idempotent(read, deadline=self.interval)
        self._rows = {str(r[0]): Member(str(r[0]), int(r[1]), int(r[2]), bool(r[3])) for r in rows}
        self._valid_until = -math.inf
        self._current()

    async def _write(self, *, left: bool, now: float | None = None) -> None:
        now = self._clock.now() if now is None else now
        self._version = max(self._version + 1, int(now * 1_000_000))
        row: dict[str, list[object]] = {
            "member": [self.replica_id], "version": [self._version], "started_ms": [self._started_ms],
            "beat_ms": [round(now * 1000)], "left": [int(left)]}

        async def write() -> None:  # safe to repeat: the latest version of the member's row wins
            await self._engine.insert(f"{self._db}.members", MEMBER_COLUMNS, row)

        await retry.idempotent(write, deadline=self.interval)

    async def _loop(self) -> None:
        next_beat = self._clock.now() + self.interval
        while True:
            # Wake for the next heartbeat, or sooner when a member settles or expires meanwhile.
            await asyncio.sleep(max(0.01, min(next_beat, self._valid_until) - self._clock.now()))
            try:
                if self._clock.now() >= next_beat:
                    next_beat = self._clock.now() + self.interval
                    await self.beat()
                else:
                    self._current()  # a settle or expiry instant passed: notice it now
            except errors.StackWatchError as e:
                LOG.warning("alarm replica %s: heartbeat failed: %s", self.replica_id, e)
                self._current()
            except Exception:
                LOG.exception("alarm replica %s: heartbeat failed", self.replica_id)
