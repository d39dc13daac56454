"""The ``metrics`` rows of CloudWatch's widget JSON (dashboards and GetMetricWidgetImage alike).

A row names one metric as ``[Namespace, MetricName, DimName, DimValue, ..., {options}]``, where
``"."`` repeats the value at the same place in the previous row and a leading ``"..."`` repeats the
whole previous row but for its last items::

    ["Shop", "Latency", "Host", "web-1"]
    [".", ".", ".", "web-2"]          -> ["Shop", "Latency", "Host", "web-2"]
    ["...", "web-3"]                  -> ["Shop", "Latency", "Host", "web-3"]

Both the dashboard validator and the widget renderer resolve rows here, so a body PutDashboard
accepts draws the same metrics in GetMetricWidgetImage. Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Most dimensions a metric has (CloudWatch's limit).
MAX_DIMENSIONS = 30


class RowError(ValueError):
    """A malformed row.

    Attributes:
        index: the item at fault (None: the row as a whole).
        message: what is wrong, as the validation message says it.
    """

    def __init__(self, index: int | None, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def expand_row(items: Sequence[Any], previous: Sequence[str]) -> list[str]:
    """The row's strings with ``"..."`` and ``"."`` resolved from ``previous`` (the last good row).

    Args:
        items: the row without its options object (at least one item).
        previous: the previous row, resolved ([] for the first).

    Raises:
        RowError: a repeat with nothing to repeat, a non-string or empty item, no metric name,
            a dimension name without a value, more than 30 dimensions.
    """
    if items and items[0] == "...":
        keep = len(previous) - (len(items) - 1)
        if not previous or keep < 0:
            raise RowError(0, "'...' needs a previous metric row to repeat")
        items = [*previous[:keep], *items[1:]]
    out: list[str] = []
    for j, item in enumerate(items):
        if item == ".":
            if j >= len(previous):
                raise RowError(j, "'.' needs a value at the same place in the previous metric row")
            item = previous[j]
        if not isinstance(item, str) or not item:
            raise RowError(j, "Should be a non-empty string")
        out.append(item)
    if len(out) < 2:
        raise RowError(None, "A metric row should name a namespace and a metric name")
    if len(out) % 2:
        raise RowError(None, "Dimensions should come in name and value pairs")
    if len(out) > 2 + 2 * MAX_DIMENSIONS:
        raise RowError(None, f"A metric may have at most {MAX_DIMENSIONS} dimensions")
    return out
