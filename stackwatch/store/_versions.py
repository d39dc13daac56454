"""Row versions for ReplacingMergeTree tables whose latest row per key wins."""

from __future__ import annotations

import threading


class RowVersions:
    """Row versions: microseconds since the epoch, strictly increasing within the process.

    A store starts it above the newest version it holds (:meth:`at_least`), so a clock that stepped
    back across a restart cannot make a new write lose to an older one. Thread-safe: stores write
    from their engine's threads.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now: float) -> int:
        """A version above every one issued, and at least ``now`` (epoch seconds) in microseconds."""
        with self._lock:
            self._last = max(self._last + 1, int(now * 1_000_000))
            return self._last

    def at_least(self, floor: int) -> None:
        """Never issue a version at or below ``floor`` (the newest already stored)."""
        with self._lock:
            self._last = max(self._last, floor)
