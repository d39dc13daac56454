"""The one place an alarm's state changes are written: state, StateUpdate item, due actions.

Both the servicer (SetAlarmState) and the scheduler (evaluations) change states by reading the
current state, deciding with the domain (:mod:`services.alarm.domain.transitions`) and writing the
outcome. Two of them interleaved on one alarm would lose a change, so they take turns on
:attr:`AlarmWriter.lock` from the read to the write; the service is one process per alarm (DESIGN:
each alarm has one evaluator and one writer), so a process-local lock is enough.

What an :class:`~services.alarm.domain.Outcome` writes::

    change    outbox rows                          state row   history items
    VALUE     one per due action                   yes         StateUpdate
    REASON    one per Auto Scaling repeat          yes         none
    NONE      one per Auto Scaling repeat          no          none

Due actions go to the outbox (:mod:`services.alarm.topics`) *first*: a crash after that and before
the state row is written can at worst deliver a change whose state was not recorded (at least
once), never record a change whose actions are lost. The dispatcher (:mod:`services.alarm.delivery`)
delivers them and writes each one's ``Action`` history item when it is done; :attr:`AlarmWriter.wake`
tells it new rows are waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.alarm.actions import notification
from services.alarm.domain import Outcome, StateRecord, action_key, due_actions
from services.alarm.domain._format import java_json
from services.alarm.domain.model import from_epoch
from services.alarm.domain.transitions import Change
from services.alarm.records import AnyConfig, kind_of
from services.alarm.store import AlarmStore
from services.alarm.topics import NotificationStore, PendingAction, outbox_id
from stackwatch import logs

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StateChange:
    """One alarm's outcome to write: whose, from which state, and what changed."""

    account: str
    arn: str
    config: AnyConfig
    old: StateRecord
    outcome: Outcome


class AlarmWriter:
    """Writes outcomes of state changes to the store.

    Args:
        store: the alarm store.
        region: the region the alarm ARNs name (for notifications).
        outbox: where due actions wait for delivery (by default the notification tables of the
            store's database).
    """

    def __init__(self, store: AlarmStore, region: str, outbox: NotificationStore | None = None) -> None:
        self.store = store
        self.region = region
        self.outbox = outbox or NotificationStore(store.engine, store.database)
        self.lock = asyncio.Lock()
        #: Called after due actions were queued (the dispatcher sets it to wake itself up).
        self.wake: Callable[[], None] = lambda: None
        #: Called as ``after_change(account, name, now)`` after a change of value (composites' parents).
        self.after_change: Callable[[str, str, float], Awaitable[None]] | None = None

    async def record(self, account: str, arn: str, config: AnyConfig, old: StateRecord, outcome: Outcome,
                     now: float) -> None:
        """Write what ``outcome`` changed (call with :attr:`lock` held)."""
        await self.record_many([StateChange(account, arn, config, old, outcome)], now)

    async def record_many(self, changes: Sequence[StateChange], now: float) -> None:
        """Write what each outcome changed, in at most one INSERT per table (call with :attr:`lock` held).

        The order per table is the one that keeps a crash harmless: due actions first (outbox),
        then states, then history; a crash in between repeats at most an action (at least once).
        """
        pending = [p for c in changes for p in self._pending(c.account, c.arn, c.config, c.old, c.outcome, now)]
        if pending:
            await self.outbox.ready()
            await self.outbox.add_pending(pending, now)
        await self.store.write_states([(c.account, c.config.name, c.outcome.state) for c in changes
                                       if c.outcome.change is not Change.NONE], now)
        await self.store.add_histories([(c.account, c.config.name, c.outcome.history, kind_of(c.config))
                                        for c in changes if c.outcome.history is not None], now)
        if pending:
            self.wake()
        for c in changes:
            if c.outcome.change is Change.VALUE:
                token = logs.bind(account=c.account, alarm_arn=c.arn)
                LOG.info("alarm %s: %s -> %s", c.config.name, c.old.value, c.outcome.state.value)
                logs.unbind(token)
                if self.after_change is not None:
                    await self.after_change(c.account, c.config.name, now)

    def _pending(self, account: str, arn: str, config: AnyConfig, old: StateRecord, outcome: Outcome,
                 now: float) -> list[PendingAction]:
        """The outbox rows of the actions ``outcome`` makes due (one per target, keyed as the domain says)."""
        due = due_actions(outcome, config.actions(), config.actions_enabled)
        if not due:
            return []
        key = action_key(arn, outcome, from_epoch(now))
        message = java_json(notification(config, arn, str(old.value), outcome, self.region))
        return [PendingAction(account, outbox_id(key, target), config.name, arn, target, key, message,
                              round(now * 1000), outcome.state.reason_data or "", kind_of(config))
                for target in due]
