"""Metric identity and the datum: the values every component agrees on.

A metric is identified by (account, namespace, metric name, the *set* of its dimensions). The
order in which a client lists dimensions does not matter, so the canonical form sorts them by name;
:func:`series_id` hashes the canonical form into the 64-bit key the store sorts and filters by.

A :class:`Datum` is what one CloudWatch ``MetricDatum`` says, already validated. Every datum
reduces to a statistic set (count, sum, min, max) plus, when the client sent raw values, those
values with their counts, which is what exact percentiles need.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dimension:
    """One name/value pair of a metric's identity."""

    name: str
    value: str


Dimensions = tuple[Dimension, ...]


def canonical_dimensions(dims: Dimensions) -> Dimensions:
    """Return the dimensions sorted by name (then value): the order-free identity."""
    return tuple(sorted(dims, key=lambda d: (d.name, d.value)))


def series_id(account: str, namespace: str, metric_name: str, dims: Dimensions) -> int:
    """Stable unsigned 64-bit id of one metric of one account.

    ``dims`` must already be canonical (see :func:`canonical_dimensions`). The hash is computed in
    Python, not by the database, so both store engines and every process agree on it.
    """
    h = hashlib.blake2b(digest_size=8)
    h.update(account.encode())
    h.update(b"\x00")
    h.update(namespace.encode())
    h.update(b"\x00")
    h.update(metric_name.encode())
    for d in dims:
        h.update(b"\x00")
        h.update(d.name.encode())
        h.update(b"\x01")
        h.update(d.value.encode())
    return int.from_bytes(h.digest(), "little")


@dataclass(frozen=True, slots=True)
class StatisticSet:
    """Pre-aggregated values (CloudWatch ``StatisticValues``)."""

    sample_count: float
    sum: float
    minimum: float
    maximum: float


@dataclass(frozen=True, slots=True)
class Datum:
    """One validated datum, reduced to what the store keeps.

    Attributes:
        namespace: CloudWatch namespace.
        metric_name: metric name.
        dimensions: canonical (sorted) dimensions.
        timestamp: epoch seconds (float, sub-second precision kept).
        stats: the statistic set this datum contributes.
        values: raw values when known (from ``Value``, ``Values``, or a degenerate statistic set);
            empty when only the statistic set is known, which disables percentiles.
        counts: how many times each value occurred, parallel to ``values``.
        unit: a ``StandardUnit`` string; ``None`` when the client gave none.
        storage_resolution: 1 (high resolution) or 60 (standard).
    """

    namespace: str
    metric_name: str
    dimensions: Dimensions
    timestamp: float
    stats: StatisticSet
    values: tuple[float, ...]
    counts: tuple[float, ...]
    unit: str = "None"
    storage_resolution: int = 60
