"""The in-memory alarm registry: every definition and current state, indexed by metric.

Why in memory: 50,000 alarms evaluated every minute is ~830 evaluations a second. Reading each
alarm's state from ClickHouse before each evaluation (what the first scheduler did, besides a
full-table read per pass) would be 830 queries a second for answers the process already knows:
every state change of an alarm goes through this process (the writer's lock, DESIGN: one
evaluator and one writer per alarm). So definitions and states are read **once** at start
(:meth:`AlarmRegistry.load`) and kept current by the writes themselves: :class:`WatchedStore` is
the alarm store with a hook after each successful ``put_alarm``, ``delete_alarms`` and
``write_state``, which covers PutMetricAlarm, DeleteAlarms, SetAlarmState,
Enable/DisableAlarmActions and the evaluations, without the servicer knowing. A write that fails
raises before the hook, so the registry never holds what the store does not.

::

    servicer / scheduler ──> WatchedStore.put_alarm / delete_alarms / write_state ──> ClickHouse
                                   │ after success
                                   v
                      AlarmRegistry  (account, name) -> RegisteredAlarm(config, state)
                                     metric key      -> {(account, name), ...}   (owned, single-metric)
                                     version         (bumped when the watched set changes)
                                     listener        (the scheduler: schedule, backfill, drop)

**Ownership.** ``owns(account, name)`` (default: everything) says which alarms this process
evaluates; all definitions are kept, so an alarm gained later needs no read.
:meth:`AlarmRegistry.recheck_ownership` applies a changed predicate: gained alarms are announced
to the listener (which backfills and schedules them), lost ones are announced as gone (their
windows and timers dropped). :meth:`AlarmRegistry.reload` re-reads the store and reconciles, for
replicas whose peers write alarms this process does not see (off by default; the replica work
decides when).

**Watched metrics.** Ingest learns the metric keys of the owned single-metric alarms with
``WatchedMetrics`` (a long poll on :attr:`AlarmRegistry.version`). The registry remembers which
version each ingest instance last said it holds (:meth:`AlarmRegistry.acknowledge`), so the
scheduler backfills a new alarm only once every live instance forwards its metric
(:meth:`AlarmRegistry.synced`): a datum acknowledged between the backfill's read and the moment
ingest starts forwarding would otherwise be lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from services.alarm.domain import StateRecord
from services.alarm.records import AlarmConfig
from services.alarm.store import METRIC, STATE_COLUMNS, AlarmStore, StoredAlarm, _ms
from stackwatch import errors
from stackwatch.store import AsyncEngine

LOG = logging.getLogger(__name__)

AlarmKey = tuple[str, str]
"""(account, alarm name)."""
MetricKey = tuple[str, str, str, tuple[tuple[str, str], ...]]
"""(account, namespace, metric name, dimensions sorted by name): a metric's identity."""
Owns = Callable[[str, str], bool]


def owns_everything(account: str, name: str) -> bool:
    """The default ownership predicate: one replica evaluates every alarm."""
    return True


def single_metric(config: AlarmConfig) -> bool:
    """Whether the alarm evaluates one metric's statistic (the streamed path), not metric math."""
    return not getattr(config, "metrics", None) and (config.statistic is not None
                                                     or config.extended_statistic is not None)


def metric_key(account: str, config: AlarmConfig) -> MetricKey:
    """The identity of a single-metric alarm's metric."""
    return account, config.namespace, config.metric_name, tuple(sorted(config.dimensions))


@dataclass(slots=True)
class RegisteredAlarm:
    """One alarm as the registry holds it.

    Attributes:
        account: owner.
        name: AlarmName.
        arn: AlarmArn.
        config: the definition.
        state: the current state (None until the first state write).
        owned: whether this process evaluates it.
        version: the registry version at which it was (re)registered.
    """

    account: str
    name: str
    arn: str
    config: AlarmConfig
    state: StateRecord | None
    owned: bool
    version: int = 0

    @property
    def key(self) -> AlarmKey:
        """(account, name)."""
        return self.account, self.name


class Listener(Protocol):
    """What the registry tells about owned alarms (the scheduler)."""

    def added(self, alarm: RegisteredAlarm) -> None:
        """An owned alarm was created, replaced or gained."""
        ...

    def removed(self, key: AlarmKey) -> None:
        """An alarm was deleted or lost."""
        ...


class AlarmRegistry:
    """Definitions, states and the watched-metric index of this process (see the module docstring).

    Args:
        owns: the ownership predicate.
        instance_ttl: seconds after its last WatchedMetrics call an ingest instance stops counting
            for :meth:`synced`.
        monotonic: the time source for instance liveness.
    """

    def __init__(self, owns: Owns = owns_everything, instance_ttl: float = 30.0,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.owns = owns
        self.alarms: dict[AlarmKey, RegisteredAlarm] = {}
        self.by_metric: dict[MetricKey, set[AlarmKey]] = {}
        self.version = 1
        self.listener: Listener | None = None
        self._changed = asyncio.Event()
        self._instances: dict[str, tuple[int, float]] = {}
        self._ttl = instance_ttl
        self._monotonic = monotonic or time.monotonic

    # -- loading and reconciling ------------------------------------------------------------
    async def load(self, store: AlarmStore) -> int:
        """Read every alarm and state once (start, or :meth:`reload`); the number held."""
        stored = await store.all_alarms()
        seen = set()
        for s in stored:
            seen.add((s.account, s.name))
            current = self.alarms.get((s.account, s.name))
            if current is not None and current.arn == s.arn and current.config.to_json() == s.config:
                current.state = s.state
                continue
            self.put(s.account, s.name, s.arn, s.config)
            if s.state is not None:
                self.set_state(s.account, s.name, s.state)
        for key in [k for k in self.alarms if k not in seen]:
            self.delete(key[0], [key[1]])
        return len(self.alarms)

    async def reload(self, store: AlarmStore) -> int:
        """Re-read the store and apply what changed (alarms written by another process)."""
        return await self.load(store)

    def recheck_ownership(self) -> tuple[int, int]:
        """Apply the ownership predicate again; (alarms gained, alarms lost)."""
        gained = lost = 0
        for alarm in list(self.alarms.values()):
            owned = self.owns(alarm.account, alarm.name)
            if owned == alarm.owned:
                continue
            self._unindex(alarm)
            alarm.owned = owned
            self._index(alarm)
            if owned:
                gained += 1
                if self.listener is not None:
                    self.listener.added(alarm)
            else:
                lost += 1
                if self.listener is not None:
                    self.listener.removed(alarm.key)
        return gained, lost

    # -- hooks of the store's writes --------------------------------------------------------
    def put(self, account: str, name: str, arn: str, config_json: str) -> None:
        """An alarm definition was written (created or replaced)."""
        try:
            config = AlarmConfig.from_json(config_json)
        except (ValueError, TypeError, KeyError, errors.ServiceError):
            LOG.warning("alarm %s of %s: unreadable definition, not evaluated", name, account)
            return
        old = self.alarms.get((account, name))
        if old is not None:
            self._unindex(old)
        alarm = RegisteredAlarm(account, name, arn, config, old.state if old else None,
                                self.owns(account, name))
        self.alarms[alarm.key] = alarm
        self._index(alarm)
        alarm.version = self.version
        if alarm.owned and self.listener is not None:
            self.listener.added(alarm)

    def delete(self, account: str, names: Sequence[str]) -> None:
        """Alarms were deleted."""
        for name in names:
            alarm = self.alarms.pop((account, name), None)
            if alarm is None:
                continue
            self._unindex(alarm)
            if self.listener is not None:
                self.listener.removed(alarm.key)

    def set_state(self, account: str, name: str, state: StateRecord) -> None:
        """An alarm's state was written."""
        alarm = self.alarms.get((account, name))
        if alarm is not None:
            alarm.state = state

    # -- the watched-metric index -----------------------------------------------------------
    def _index(self, alarm: RegisteredAlarm) -> None:
        if not alarm.owned or not single_metric(alarm.config):
            return
        key = metric_key(alarm.account, alarm.config)
        members = self.by_metric.setdefault(key, set())
        members.add(alarm.key)
        if len(members) == 1:
            self._bump()

    def _unindex(self, alarm: RegisteredAlarm) -> None:
        if not single_metric(alarm.config):
            return
        key = metric_key(alarm.account, alarm.config)
        members = self.by_metric.get(key)
        if members is None or alarm.key not in members:
            return
        members.discard(alarm.key)
        if not members:
            del self.by_metric[key]
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, known: int, timeout: float) -> None:
        """Return when :attr:`version` differs from ``known``, or after ``timeout`` seconds."""
        if self.version != known or timeout <= 0:
            return
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass

    # -- ingest instances ---------------------------------------------------------------------
    def acknowledge(self, instance: str, version: int) -> None:
        """An ingest instance said it holds ``version`` of the watched set."""
        self._instances[instance] = (version, self._monotonic())

    def live_instances(self) -> dict[str, int]:
        """The instances seen within the ttl, with the version each holds."""
        now = self._monotonic()
        for name in [n for n, (_, seen) in self._instances.items() if now - seen > self._ttl]:
            del self._instances[name]
        return {n: v for n, (v, _) in self._instances.items()}

    def synced(self, version: int) -> bool:
        """Whether every live ingest instance holds ``version`` or newer (True when none is live)."""
        return all(v >= version for v in self.live_instances().values())


class WatchedStore(AlarmStore):
    """The alarm store, telling the registry about each successful write (see the module docstring).

    It also defers **reason-only** state writes: an evaluation that keeps the state value but has
    new words (the reason data carries the evaluation time, so nearly every evaluation does) is
    held in memory, with its row version taken at once, and written with the others in one INSERT
    by :meth:`flush` (the scheduler calls it about once a second). 50,000 alarms a minute would
    otherwise be ~830 single-row INSERTs a second, each a part for ClickHouse to merge. Nothing
    that matters after a restart is deferred: a change of value is written through (its newer
    version supersedes a deferred row, whichever reaches the table first), and losing a deferred
    reason to a crash only shows the previous evaluation's words until the next one.

    Args:
        engine: the store engine.
        database: the database this store owns.
        registry: the registry kept current.
    """

    def __init__(self, engine: AsyncEngine, database: str, registry: AlarmRegistry) -> None:
        super().__init__(engine, database)
        self.registry = registry
        self._deferred: dict[AlarmKey, dict[str, Any]] = {}

    async def put_alarm(self, account: str, name: str, arn: str, namespace: str, metric: str, config: str,
                        now: float, kind: str = METRIC) -> None:
        """Write the definition, then register it (metric alarms: composites follow their children)."""
        await super().put_alarm(account, name, arn, namespace, metric, config, now, kind)
        if kind == METRIC:
            self.registry.put(account, name, arn, config)

    async def delete_alarms(self, account: str, names: Sequence[str], now: float) -> None:
        """Mark the alarms deleted, then forget them."""
        await super().delete_alarms(account, names, now)
        for name in names:
            self._deferred.pop((account, name), None)
        self.registry.delete(account, names)

    async def write_states(self, states: Sequence[tuple[str, str, StateRecord]], now: float) -> None:
        """Write the states (deferred when only their words changed), then hold them."""
        through = []
        for account, name, state in states:
            current = self.registry.alarms.get((account, name))
            old = current.state if current is not None else None
            if old is not None and old.value == state.value and old.updated == state.updated:
                self._deferred[(account, name)] = {
                    "account": account, "name": name, "version": self._versions.next(now),
                    "value": str(state.value), "reason": state.reason, "reason_data": state.reason_data or "",
                    "has_reason_data": int(state.reason_data is not None), "updated_ms": _ms(state.updated),
                    "transitioned_ms": _ms(state.transitioned)}
            else:
                through.append((account, name, state))
        await super().write_states(through, now)
        for account, name, state in states:
            self.registry.set_state(account, name, state)

    @property
    def deferred(self) -> int:
        """Reason-only state writes waiting for :meth:`flush`."""
        return len(self._deferred)

    async def flush(self) -> int:
        """Write the deferred reason-only states in one INSERT; the number written."""
        if not self._deferred:
            return 0
        rows, self._deferred = list(self._deferred.values()), {}
        await self._engine.insert(f"{self.database}.states", STATE_COLUMNS,
                                  {c: [r[c] for r in rows] for c in STATE_COLUMNS})
        return len(rows)

    async def alarms(self, account: str, *, names: Sequence[str] | None = None, prefix: str | None = None,
                     namespace: str | None = None, metric: str | None = None,
                     kinds: Sequence[str] | None = None) -> list[StoredAlarm]:
        """:meth:`AlarmStore.alarms`, with the states of this process (deferred words included)."""
        found = await super().alarms(account, names=names, prefix=prefix, namespace=namespace, metric=metric,
                                     kinds=kinds)
        if not self._deferred:
            return found
        out = []
        for s in found:
            held = self.registry.alarms.get((s.account, s.name))
            if (s.account, s.name) in self._deferred and held is not None and held.state is not None:
                s = replace(s, state=held.state)
            out.append(s)
        return out
