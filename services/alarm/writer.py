"""The one place an alarm's state changes are written: state, StateUpdate item, due actions.

Both the servicer (SetAlarmState) and the scheduler (evaluations) change states by reading the
current state, deciding with the domain (:mod:`services.alarm.domain.transitions`) and writing the
outcome. Two of them interleaved on one alarm would lose a change, so they take turns on
:attr:`AlarmWriter.lock` from the read to the write; the service is one process per alarm (DESIGN:
each alarm has one evaluator and one writer), so a process-local lock is enough.

What an :class:`~services.alarm.domain.Outcome` writes::

    change    state row   history items
    VALUE     yes         StateUpdate, then one Action item per due action
    REASON    yes         Action items (Auto Scaling repeats) only
    NONE      no          Action items (Auto Scaling repeats) only
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.alarm.actions import action_item, notification
from services.alarm.domain import HistoryItem, Outcome, StateRecord, action_key, due_actions
from services.alarm.domain.model import from_epoch
from services.alarm.domain.transitions import Change
from services.alarm.records import AnyConfig, kind_of
from services.alarm.store import AlarmStore
from stackwatch import logs

LOG = logging.getLogger(__name__)


class AlarmWriter:
    """Writes outcomes of state changes to the store.

    Args:
        store: the alarm store.
        region: the region the alarm ARNs name (for notifications).
    """

    def __init__(self, store: AlarmStore, region: str) -> None:
        self.store = store
        self.region = region
        self.lock = asyncio.Lock()
        #: Called as ``after_change(account, name, now)`` after a change of value (composites' parents).
        self.after_change: Callable[[str, str, float], Awaitable[None]] | None = None

    async def record(self, account: str, arn: str, config: AnyConfig, old: StateRecord, outcome: Outcome,
                     now: float) -> None:
        """Write what ``outcome`` changed (call with :attr:`lock` held)."""
        moment = from_epoch(now)
        if outcome.change is not Change.NONE:
            await self.store.write_state(account, config.name, outcome.state, now)
        items: list[HistoryItem] = [outcome.history] if outcome.history is not None else []
        due = due_actions(outcome, config.actions(), config.actions_enabled)
        if due:
            key = action_key(arn, outcome, moment)
            message = notification(config, arn, str(old.value), outcome, self.region)
            items.extend(action_item(target, message, key, moment) for target in due)
        await self.store.add_history(account, [(config.name, item) for item in items], now, kind_of(config))
        if outcome.change is Change.VALUE:
            token = logs.bind(account=account, alarm_arn=arn)
            LOG.info("alarm %s: %s -> %s", config.name, old.value, outcome.state.value)
            logs.unbind(token)
            if self.after_change is not None:
                await self.after_change(account, config.name, now)
