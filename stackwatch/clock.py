"""Time as a dependency: services take a Clock, tests drive a FakeClock.

Domain code never reads the wall clock; services pass ``clock.now()`` into it.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time in epoch seconds."""

    def now(self) -> float:
        """Current time, epoch seconds."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Current time, epoch seconds."""
        return time.time()


class FakeClock:
    """A clock that moves only when told to (for tests)."""

    def __init__(self, start: float = 1_714_564_800.0) -> None:
        self._now = start

    def now(self) -> float:
        """Current fake time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += seconds

    def set(self, when: float) -> None:
        """Jump to ``when``."""
        self._now = when
