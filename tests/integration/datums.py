"""Building datums for store tests the way PutMetricData reduces them (Value, Values, StatisticValues)."""

from __future__ import annotations

from collections.abc import Sequence

from stackwatch.domain.metrics import Datum, Dimension, StatisticSet, canonical_dimensions, series_id

ACCOUNT_A = "0d5f0c4e-5b7e-4a53-9d2f-aaaaaaaaaaaa"
ACCOUNT_B = "6f1c2b9a-3e4d-4c2b-8a1f-bbbbbbbbbbbb"
T0 = 1_800_000_000  # a whole hour (2027-01-15T08:00:00Z), divisible by 60, 300 and 3600


def dims(*pairs: tuple[str, str]) -> tuple[Dimension, ...]:
    """Canonical dimensions from (name, value) pairs."""
    return canonical_dimensions(tuple(Dimension(n, v) for n, v in pairs))


def value(t: float, v: float, *, ns: str = "App", name: str = "Latency", d: Sequence[tuple[str, str]] = (),
          unit: str = "None", resolution: int = 60) -> Datum:
    """A datum sent with ``Value``."""
    return Datum(ns, name, dims(*d), t, StatisticSet(1.0, v, v, v), (v,), (1.0,), unit, resolution)


def values(t: float, vs: Sequence[float], cs: Sequence[float], *, ns: str = "App", name: str = "Latency",
           d: Sequence[tuple[str, str]] = (), unit: str = "None") -> Datum:
    """A datum sent with ``Values`` and ``Counts``."""
    stats = StatisticSet(float(sum(cs)), float(sum(v * c for v, c in zip(vs, cs, strict=True))),
                         float(min(vs)), float(max(vs)))
    return Datum(ns, name, dims(*d), t, stats, tuple(vs), tuple(cs), unit)


def stat_set(t: float, count: float, total: float, lo: float, hi: float, *, ns: str = "App",
             name: str = "Latency", d: Sequence[tuple[str, str]] = (), unit: str = "None") -> Datum:
    """A datum sent with ``StatisticValues`` (no values: percentiles unavailable)."""
    return Datum(ns, name, dims(*d), t, StatisticSet(count, total, lo, hi), (), (), unit)


def sid(account: str, ns: str = "App", name: str = "Latency", d: Sequence[tuple[str, str]] = ()) -> int:
    """The series id of a metric."""
    return series_id(account, ns, name, dims(*d))
