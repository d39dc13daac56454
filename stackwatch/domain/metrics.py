"""Metric identity and the datum: the values every component agrees on.

A metric is identified by (account, namespace, metric name, the *set* of its dimensions). The
order in which a client lists dimensions does not matter, so the canonical form sorts them by name;
:func:`series_id` hashes the canonical form into the 64-bit key the store sorts and filters by.

A :class:`Datum` is what one CloudWatch ``MetricDatum`` says, already validated. Every datum
reduces to a statistic set (count, sum, min, max) plus, when the client sent raw values, those
values with their counts, which is what exact percentiles need.

:class:`Dimension`, :class:`Datum` and :class:`StatisticSet` are typed NamedTuples rather than frozen
dataclasses: they are as immutable, and PutMetricData makes a thousand of each per request, which
a ``NamedTuple`` builds three to five times faster (0.8 µs against 2.5-3.9 µs, measured here).
"""

from __future__ import annotations

import functools
import hashlib
from typing import NamedTuple


class Dimension(NamedTuple):
    """One name/value pair of a metric's identity."""

    name: str
    value: str


Dimensions = tuple[Dimension, ...]


def canonical_dimensions(dims: Dimensions) -> Dimensions:
    """Return the dimensions sorted by name (then value): the order-free identity."""
    return tuple(sorted(dims))


@functools.lru_cache(maxsize=200_000)
def series_id(account: str, namespace: str, metric_name: str, dims: Dimensions) -> int:
    """Stable unsigned 64-bit id of one metric of one account.

    ``dims`` must already be canonical (see :func:`canonical_dimensions`). The hash (BLAKE2b, 8
    bytes, little-endian) is of ``account NUL namespace NUL metric`` followed by ``NUL name SOH
    value`` per dimension, in UTF-8. It is computed in Python, not by the database, so both store
    engines and every process agree on it; the busiest series are remembered, since the same
    metrics arrive in request after request.
    """
    parts = [account, namespace, metric_name]
    parts.extend(f"{d.name}\x01{d.value}" for d in dims)
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class StatisticSet(NamedTuple):
    """Pre-aggregated values (CloudWatch ``StatisticValues``)."""

    sample_count: float
    sum: float
    minimum: float
    maximum: float


class Datum(NamedTuple):
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


class DatumBatch(NamedTuple):
    """Validated datums of one namespace, one list per field (what the store writes column-wise).

    Entry ``i`` of every list belongs to datum ``i``. :meth:`from_datums` builds one from
    :class:`Datum` rows; ingest's column validation builds one directly. Equal dimension sets may
    share one tuple object.
    """

    namespace: str
    metric_names: list[str]
    dimensions: list[Dimensions]
    timestamps: list[float]
    sample_counts: list[float]
    sums: list[float]
    minimums: list[float]
    maximums: list[float]
    values: list[tuple[float, ...]]
    counts: list[tuple[float, ...]]
    units: list[str]
    resolutions: list[int]

    @classmethod
    def from_datums(cls, namespace: str, datums: list[Datum]) -> DatumBatch:
        """The batch holding ``datums`` (all of ``namespace``), in order."""
        return cls(namespace, [d.metric_name for d in datums], [d.dimensions for d in datums],
                   [d.timestamp for d in datums], [d.stats.sample_count for d in datums],
                   [d.stats.sum for d in datums], [d.stats.minimum for d in datums],
                   [d.stats.maximum for d in datums], [d.values for d in datums], [d.counts for d in datums],
                   [d.unit for d in datums], [d.storage_resolution for d in datums])

    @property
    def size(self) -> int:
        """The number of datums (``len()`` of a NamedTuple counts its fields, so it is not that)."""
        return len(self.metric_names)
