"""What a function body receives: its evaluated arguments and the :class:`Context` of the request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from stackwatch.domain.metricmath._model import MetricRef, SearchCall, Series
from stackwatch.domain.metricmath._series import Value

Arg = Value | str
"""An evaluated argument: a value, or the text of a string literal or keyword (``'err'``, ``REPEAT``)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a function may read besides its arguments (all of it given to ``evaluate``)."""

    start: float
    end: float
    period: int
    """The evaluating query's period (its Period, else the request's default)."""
    metrics: tuple[Series, ...]
    """Every MetricStat query's series, in request order, labelled (what METRICS() returns)."""
    metric_ids: tuple[str, ...]
    searched: Mapping[SearchCall, Sequence[Series]]
    default_label: Callable[[MetricRef, Sequence[MetricRef]], str]


Impl = Callable[[list[Arg], Context], Value]


def scalar(x: Arg) -> float:
    """The argument as a scalar (the planner has checked its kind)."""
    assert isinstance(x, float)
    return x


def array(x: Arg) -> tuple[Series, ...]:
    """The argument as an array of series (the planner has checked its kind)."""
    assert isinstance(x, tuple)
    return x
