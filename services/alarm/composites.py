"""Composite alarms in motion: re-evaluation when a child changes, and actions suppression.

A composite alarm has no period: its state is a function of its children's states
(:func:`services.alarm.domain.evaluate_composite`), decided again whenever one of them changes value
and when the composite is put. The writer calls :meth:`Composites.on_change` after every change of
value it records, with its lock held, so a chain of composites settles within that one turn::

    child changes value ── writer.record ── on_change(child)
                                              ├─ parents of child (rules naming it, not in a cycle):
                                              │     evaluate ── writer.record ── on_change(parent) ...
                                              └─ composites whose ActionsSuppressor is child:
                                                    suppression decided again (may run held actions)

**Cycles** (A reads B, B reads A) are accepted by PutCompositeAlarm and never evaluated, as
CloudWatch stops evaluating when it detects one; the recursion above therefore ends.

**Actions suppression** (PutCompositeAlarm's ActionsSuppressor): when a composite changes value
its actions are held back, and :class:`Suppression` says why (DescribeAlarms' ActionsSuppressedBy):

    ``Alarm``            the suppressor is in ALARM; held until it leaves ALARM, then ExtensionPeriod.
    ``ExtensionPeriod``  the suppressor left ALARM less than ActionsSuppressorExtensionPeriod ago.
    ``WaitPeriod``       the composite entered ALARM less than ActionsSuppressorWaitPeriod ago and the
                         suppressor is not (yet) in ALARM.

When the hold ends and the composite is still in the state that made the actions due, they run
through the writer like any other due action. Holds are timers of this process: a restart during a
hold drops the held actions (logged), it never runs them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace

from services.alarm.domain import AlarmKind, AlarmState, ChildState, StateRecord, apply_evaluation, evaluate_composite
from services.alarm.domain.model import from_epoch
from services.alarm.domain.transitions import Actions, Change, Effects, Outcome, initial_state
from services.alarm.records import CompositeConfig, load_config
from services.alarm.store import COMPOSITE, StoredAlarm
from services.alarm.writer import AlarmWriter
from stackwatch.clock import Clock

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a composite's due actions are held, and until when (None: until the suppressor leaves ALARM)."""

    by: str
    until: float | None

    @property
    def reason(self) -> str:
        """``ActionsSuppressedReason``."""
        return f"Actions suppressed by {self.by}"


def decide(config: CompositeConfig, composite: StateRecord, suppressor: StateRecord | None,
           suppressor_left_alarm: float | None, now: float) -> Suppression | None:
    """Whether the composite's actions are held at ``now`` (pure; see the module docstring).

    Args:
        config: the composite's configuration (with a suppressor).
        composite: its current state.
        suppressor: the suppressor's state (None: it does not exist, so nothing is suppressed).
        suppressor_left_alarm: when the suppressor last went from ALARM to another state, or None.
        now: the time, epoch seconds.
    """
    if suppressor is None or config.actions_suppressor is None:
        return None
    if suppressor.value is AlarmState.ALARM:
        return Suppression("Alarm", None)
    extension = config.actions_suppressor_extension_period or 0
    if suppressor_left_alarm is not None and now < suppressor_left_alarm + extension:
        return Suppression("ExtensionPeriod", suppressor_left_alarm + extension)
    wait = config.actions_suppressor_wait_period or 0
    entered = composite.transitioned.timestamp()
    if composite.value is AlarmState.ALARM and now < entered + wait:
        return Suppression("WaitPeriod", entered + wait)
    return None


def in_cycle(name: str, composites: dict[str, CompositeConfig]) -> bool:
    """Whether composite ``name`` can reach itself through the rules' children."""
    seen: set[str] = set()
    stack = list(composites[name].children) if name in composites else []
    while stack:
        child = stack.pop()
        if child == name:
            return True
        if child in seen or child not in composites:
            continue
        seen.add(child)
        stack.extend(composites[child].children)
    return False


class Composites:
    """Evaluates composite alarms and holds their suppressed actions.

    Args:
        writer: the writer (its lock is held by every caller of the ``on_*``/``evaluate`` methods).
        clock: the time source for holds.
    """

    def __init__(self, writer: AlarmWriter, clock: Clock) -> None:
        self._writer = writer
        self._store = writer.store
        self._clock = clock
        self._holds: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def on_change(self, account: str, name: str, now: float) -> None:
        """Alarm ``name`` changed value: re-evaluate its parents and the composites it suppresses."""
        composites = await self._composites(account)
        configs = {s.name: c for s, c in composites}
        for stored, config in composites:
            if name in config.children and not in_cycle(stored.name, configs):
                await self._evaluate(account, stored, config, now)
        for stored, config in composites:
            if config.suppressor_name == name:
                await self._resuppress(account, stored.name, now)

    async def evaluate(self, account: str, name: str, now: float) -> None:
        """Evaluate composite ``name`` (after PutCompositeAlarm); a composite in a cycle is left as it is."""
        composites = await self._composites(account)
        configs = {s.name: c for s, c in composites}
        for stored, config in composites:
            if stored.name == name and not in_cycle(name, configs):
                await self._evaluate(account, stored, config, now)

    async def _composites(self, account: str) -> list[tuple[StoredAlarm, CompositeConfig]]:
        out = []
        for stored in await self._store.alarms(account, kinds=[COMPOSITE]):
            config = load_config(stored.config)
            if isinstance(config, CompositeConfig):
                out.append((stored, config))
        return out

    async def _evaluate(self, account: str, stored: StoredAlarm, config: CompositeConfig, now: float) -> None:
        moment = from_epoch(now)
        found = await self._store.alarms(account, names=sorted(config.children))
        states = {c.name: ChildState(c.arn, c.state.value, c.state.transitioned) for c in found if c.state}
        current = stored.state or initial_state(moment)
        outcome = apply_evaluation(AlarmKind.COMPOSITE, current, evaluate_composite(config.rule, states), moment)
        held = None
        if outcome.change is Change.VALUE and config.actions_suppressor is not None:
            held = await self._decide(account, config, outcome.state, now)
            await self._store.write_suppression(account, stored.name, held.by if held else "",
                                                held.reason if held else "", now)
            if held is not None:
                self._hold(account, stored.name, outcome.state, held, now)
        await self._writer.record(account, stored.arn, replace(config, actions_enabled=False) if held else config,
                                  current, outcome, now)

    async def _decide(self, account: str, config: CompositeConfig, state: StateRecord,
                      now: float) -> Suppression | None:
        name = config.suppressor_name or ""
        found = await self._store.alarms(account, names=[name])
        suppressor = found[0].state if found else None
        left = None
        if suppressor is not None and suppressor.value is not AlarmState.ALARM:
            last = await self._store.history(account, alarm_name=name, item_type="StateUpdate", limit=1)
            if last and last[0].item.summary.startswith("Alarm updated from ALARM to "):
                left = last[0].item.timestamp.timestamp()
        return decide(config, state, suppressor, left, now)

    def _hold(self, account: str, name: str, state: StateRecord, held: Suppression, now: float) -> None:
        key = (account, name)
        previous = self._holds.pop(key, None)
        if previous is not None:
            previous.cancel()
        if held.until is not None:
            self._holds[key] = asyncio.create_task(self._release_at(account, name, state, held.until - now))

    async def _release_at(self, account: str, name: str, state: StateRecord, delay: float) -> None:
        await asyncio.sleep(max(delay, 0.0))
        async with self._writer.lock:
            self._holds.pop((account, name), None)
            await self._resuppress(account, name, self._clock.now(), state)

    async def _resuppress(self, account: str, name: str, now: float, held_state: StateRecord | None = None) -> None:
        """Decide again for a composite whose actions are held; run them when the hold has ended."""
        found = await self._store.alarms(account, names=[name], kinds=[COMPOSITE])
        state = found[0].state if found else None
        if state is None:
            return
        stored = found[0]
        config = load_config(stored.config)
        if not isinstance(config, CompositeConfig):
            return
        held_now = (await self._store.suppressions(account, [name])).get(name)
        if held_now is None or (held_state is not None and held_state.transitioned != state.transitioned):
            return  # nothing held, or the composite changed state since (that change decided anew)
        held = await self._decide(account, config, state, now)
        await self._store.write_suppression(account, name, held.by if held else "", held.reason if held else "", now)
        if held is not None:
            self._hold(account, name, state, held, now)
            return
        due = Outcome(state, Change.NONE, Effects(False, Actions.NEW_STATE, False), None)
        await self._writer.record(account, stored.arn, config, state, due, now)

    async def close(self) -> None:
        """Cancel the holds (their actions are dropped, see the module docstring)."""
        for key, task in list(self._holds.items()):
            LOG.info("alarm %s of %s: held actions dropped at shutdown", key[1], key[0])
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._holds.clear()
