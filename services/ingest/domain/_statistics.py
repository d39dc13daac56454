"""Statistics over statistic sets and weighted histograms: percentile names and exact percentiles.

A period's data reaches this module in two forms. Its **statistic set** (sample count, sum,
minimum, maximum) is always known and gives the five basic statistics. Its **histogram**, the
distinct raw values with how often each occurred, is known only for data that arrived as raw
values (``Value``, ``Values``/``Counts``, or a statistic set that pins every sample to one value,
see :func:`statistic_set_values`), and is what percentiles need.

Percentiles are exact and nearest-rank: of ``N`` samples sorted ascending, ``pQ`` is the sample
at rank ``max(1, ceil(Q/100 * N))``, so ``p0`` is the minimum and ``p100`` the maximum, and every
answer is a value that was actually published. (Counts may be fractional; the answer is then the
first value whose cumulative count reaches ``Q/100 * N``, which is the same rule for whole counts.)
The rank is computed in exact decimal arithmetic (the fraction ``0.07`` is 7/100, not the binary
float just above it), so ``p7`` of 100 samples is the 7th, never the 8th. CloudWatch itself
answers from a sketch; an exact answer is within its error bound, and tests can state
expectations exactly.

CloudWatch withholds percentiles in two cases, and so does :func:`has_exact_percentiles`: when
part of the period's data is known only as a statistic set (the histogram then holds fewer samples
than the statistic set counts), and when any value in the period is negative.

**Every statistic GetMetricData accepts** is named by :func:`parse_statistic` and computed by
:func:`statistic_value`: the five basic ones from the statistic set, and the percentile family
from the histogram. The range forms keep part of the period's samples:

* a percent range ``a%:b%`` keeps, of the ``N`` samples sorted ascending, those whose rank ``r``
  satisfies ``a/100 * N < r <= b/100 * N`` (exact decimal arithmetic, as for percentiles). With
  fractional counts a value keeps the part of its cumulative span ``(C[i-1], C[i]]`` that lies in
  ``(floor(a/100 * N), floor(b/100 * N)]``, which is the rank rule for whole counts;
* an absolute range ``a:b`` keeps the values ``v`` with ``a < v <= b`` (lower bound exclusive,
  upper inclusive, as CloudWatch documents); an omitted side is unbounded.

Over the kept samples: ``TC`` is their count, ``TS`` their sum, ``TM`` their mean (``TS / TC``),
``WM`` the mean of all ``N`` samples after those below the range are raised to the smallest kept
value and those above lowered to the largest kept value; ``PR(a:b)`` is the percentage of samples
in the absolute range; ``IQM`` is ``TM(25%:75%)``; the short forms ``tmNN``, ``wmNN``, ``tcNN``,
``tsNN`` are ``TM(:NN%)`` and so on. A range that keeps nothing has no ``TM`` or ``WM`` (``TC``,
``TS`` and ``PR`` are then 0). Like percentiles, these need the period's raw values and are
withheld under the same two conditions.

This module is pure and shared: the alarm service evaluates percentile alarms with the same
:func:`parse_percentile` and :func:`percentile`.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate

from stackwatch import errors
from stackwatch.domain.metrics import StatisticSet

#: The basic statistics (CloudWatch's ``Statistic`` enum), in the model's order.
BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

#: ``pNN`` / ``pNN.NNN``: up to three integer digits and up to ten decimals, ASCII digits only.
_PERCENTILE = re.compile(r"p([0-9]{1,3}(?:\.[0-9]{1,10})?)")

#: How far a histogram's total count may stray from the statistic set's sample count (relative)
#: and still be taken for the same samples: float sums of the same counts in another order.
COUNT_TOLERANCE = 1e-9

Histogram = Sequence[tuple[float, float]]


def parse_percentile(name: str) -> float | None:
    """The fraction (0..1) a percentile statistic names, or ``None`` if it names none.

    Accepted: ``p`` followed by a number from 0 to 100 with at most ten decimals (``p99``,
    ``p99.9``, ``p0.0``, ``p100``, ``p99.9999999999``). Case matters (``P99`` is not a
    percentile), and so does form: ``p101``, ``p-1``, ``p.5``, ``p99.``, ``tm99`` and ``IQM`` all
    give ``None``.

    Examples:
        >>> parse_percentile("p99.5")
        0.995
        >>> parse_percentile("p101") is None
        True
    """
    match = _PERCENTILE.fullmatch(name)
    if match is None:
        return None
    value = Fraction(match.group(1))
    if value > 100:
        return None
    return float(value / 100)


def _target(q: float, total: float) -> Fraction:
    """How many samples lie at or below the ``q`` quantile: ``q * total``, computed exactly.

    ``q`` is taken as the decimal it prints as (``repr``), so ``0.07`` is 7/100 and 7% of 100
    samples is exactly 7, where float arithmetic gives 7.000000000000001 and so the 8th sample.
    """
    return Fraction(repr(q)) * Fraction(total)


def exact_percentiles(histogram: Histogram, fractions: Iterable[float]) -> list[float]:
    """Nearest-rank percentiles of a weighted histogram, one per fraction: the definition.

    Exact (Fraction) arithmetic throughout; :func:`percentiles` gives the same answers faster and
    falls back to this where its float shortcut is not proven.

    Args:
        histogram: ``(value, count)`` pairs, in any order; a value may repeat and counts may be
            fractional. Pairs with a count of zero or less are ignored.
        fractions: quantiles, each in ``[0, 1]`` (``0.99`` for ``p99``).

    Returns:
        For each fraction ``q``, the smallest value whose cumulative count reaches ``q * N`` (``N``
        the total count), and the smallest value for ``q = 0``. With whole counts this is the
        nearest-rank sample: rank ``max(1, ceil(q * N))`` of the samples sorted ascending.

    Raises:
        ValueError: the histogram holds no samples, or a fraction is outside ``[0, 1]``.
    """
    pairs = sorted((v, c) for v, c in histogram if c > 0)
    if not pairs:
        raise ValueError("percentile of an empty histogram")
    cumulative = list(accumulate(c for _, c in pairs))
    total = math.fsum(c for _, c in pairs)
    out = []
    for q in fractions:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"percentile fraction {q!r} is outside [0, 1]")
        index = bisect_left(cumulative, _target(q, total))
        out.append(pairs[min(index, len(pairs) - 1)][0])
    return out


#: Where the float target ``q * total`` may stray from the exact one, relative: less than 2**-51
#: (the decimal ``q`` stands for is within half an ulp of the float, and the product rounds once),
#: so a bracket of 2**-50 either side holds the exact target.
_MARGIN = 2.0**-50
#: Below this a product may be subnormal, where the relative bound fails.
_TINY = 2.0**-1000


def percentiles(histogram: Histogram, fractions: Sequence[float]) -> list[float]:
    """Nearest-rank percentiles: :func:`exact_percentiles`' answers, with floats where they provably suffice.

    The definition finds each rank by comparing the running counts with the exact target
    ``Fraction(repr(q)) * total``, and Fraction arithmetic was nine tenths of a 1,440-bucket
    answer. Here the exact target is bracketed by floats (see :data:`_MARGIN`): when no running
    count lies in the bracket, the float search is the exact search. Only the few counts inside
    it (a target that lands on a running count, like p50 of an even number of samples) are
    compared exactly, and anything outside the proof's assumptions goes to the definition.
    """
    if len(histogram) == 1 and histogram[0][1] > 0 and all(0.0 <= q <= 1.0 for q in fractions):
        return [histogram[0][0]] * len(fractions)  # one value is every quantile (a common bucket)
    pairs = sorted([pair for pair in histogram if pair[1] > 0])
    if not pairs:
        return exact_percentiles(histogram, fractions)  # raises, as defined
    counts = [c for _, c in pairs]
    cumulative = list(accumulate(counts))
    total = math.fsum(counts)
    last = len(pairs) - 1
    out = []
    for q in fractions:
        t = q * total
        if q == 0.0:  # the exact target is 0, a float
            index = bisect_left(cumulative, 0.0)
        elif _TINY < q <= 1.0 and _TINY < t:
            margin = t * _MARGIN
            index = bisect_left(cumulative, t - margin)
            high = bisect_left(cumulative, t + margin, index)
            if high != index:
                target = _target(q, total)
                index += sum(1 for c in cumulative[index:high] if c < target)
        else:
            out.append(exact_percentiles(histogram, (q,))[0])
            continue
        out.append(pairs[min(index, last)][0])
    return out


def percentile(histogram: Histogram, q: float) -> float:
    """The nearest-rank ``q`` quantile of a weighted histogram (see :func:`percentiles`).

    Examples:
        >>> percentile([(1.0, 1), (2.0, 1), (3.0, 2)], 0.5)
        2.0
        >>> percentile([(5.0, 3), (1.0, 1)], 0.0)
        1.0
    """
    return percentiles(histogram, (q,))[0]


def has_exact_percentiles(histogram: Histogram | None, sample_count: float, minimum: float) -> bool:
    """Whether a period's percentiles can be answered from its histogram, as CloudWatch decides.

    Args:
        histogram: the period's distinct values with their counts; ``None`` when none are known.
        sample_count: the period's sample count from its statistic sets (all of its data).
        minimum: the period's minimum from its statistic sets.

    Returns:
        False when there is no histogram, when its total count differs from ``sample_count``
        (beyond :data:`COUNT_TOLERANCE`, relative), meaning some of the period's data arrived only
        as statistic sets, or when the period has a negative value. True otherwise.
    """
    if not histogram or minimum < 0:
        return False
    total = math.fsum(c for _, c in histogram)
    return total > 0 and math.isclose(total, sample_count, rel_tol=COUNT_TOLERANCE, abs_tol=0.0)


def statistic_set_values(stats: StatisticSet) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The raw values a statistic set pins down, as ``(values, counts)``; empty when it pins none.

    A statistic set fixes its samples exactly when they must all be one value: ``SampleCount`` is
    1 and ``Minimum == Maximum == Sum``, or ``Minimum == Maximum`` and ``Sum == Minimum *
    SampleCount``. Then it is ``SampleCount`` samples of ``Minimum`` and keeps percentiles
    available (CloudWatch's documented rule). The sum is compared with a tiny relative tolerance,
    since a client's running sum of equal values may differ from the product in the last bit.

    Examples:
        >>> statistic_set_values(StatisticSet(sample_count=4, sum=8.0, minimum=2.0, maximum=2.0))
        ((2.0,), (4,))
        >>> statistic_set_values(StatisticSet(sample_count=4, sum=9.0, minimum=2.0, maximum=3.0))
        ((), ())
    """
    n, total, lo, hi = stats.sample_count, stats.sum, stats.minimum, stats.maximum
    single = n == 1 and lo == hi == total
    uniform = lo == hi and math.isclose(total, lo * n, rel_tol=COUNT_TOLERANCE, abs_tol=0.0)
    if single or uniform:
        return (lo,), (n,)
    return (), ()


#: ``tm99``, ``wm90.5``, ``tc10``, ``ts50``: the short range forms, a percent upper bound.
_SHORT = re.compile(r"(tm|wm|tc|ts)([0-9]{1,3}(?:\.[0-9]{1,10})?)")
#: ``TM(10%:90%)``, ``TC(:0.5)``, ``PR(-3:7.5)``: the long range forms, either side optional.
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_LONG = re.compile(rf"(TM|WM|TC|TS|PR)\(({_NUMBER})?(%?):({_NUMBER})?(%?)\)")


@dataclass(frozen=True, slots=True)
class Statistic:
    """A parsed statistic name.

    Attributes:
        name: the name as given (``"p99"``, ``"TM(10%:90%)"``).
        kind: ``SampleCount``, ``Average``, ``Sum``, ``Minimum``, ``Maximum``, ``p``, ``TM``,
            ``WM``, ``TC``, ``TS`` or ``PR`` (``IQM`` is ``TM``, a short form its long kind).
        lower: the range's lower bound (a fraction 0..1 when ``percent``, else a value); ``None``
            when omitted. For ``p``: the percentile's fraction.
        upper: the range's upper bound, likewise; ``None`` when omitted.
        percent: whether the bounds are percentiles rather than values.
        fraction: for ``p``, ``lower`` as a float (computed once, not per bucket).
    """

    name: str
    kind: str
    lower: Fraction | None = None
    upper: Fraction | None = None
    percent: bool = False
    fraction: float = 0.0

    @property
    def needs_values(self) -> bool:
        """Whether the statistic needs the raw values (the percentile family)."""
        return self.kind not in BASIC_STATISTICS


def parse_statistic(name: str, parameter: str = "Stat") -> Statistic:
    """Parse any statistic GetMetricData's ``MetricStat.Stat`` accepts (see the module docstring).

    Args:
        name: the statistic as sent.
        parameter: the parameter's query-style path, for the error message.

    Raises:
        InvalidParameterValue: not a statistic: an unknown name, a percentile outside 0..100, a
            percent bound outside 0..100, a lower bound not below the upper one, bounds mixing
            percent and value, ``PR`` with percent bounds, or a range with neither bound.

    Examples:
        >>> parse_statistic("tm90")
        Statistic(name='tm90', kind='TM', lower=None, upper=Fraction(9, 10), percent=True, fraction=0.0)
        >>> parse_statistic("PR(:300)").upper
        Fraction(300, 1)
    """
    if name in BASIC_STATISTICS:
        return Statistic(name, name)
    if name == "IQM":
        return Statistic(name, "TM", Fraction(1, 4), Fraction(3, 4), True)
    q = parse_percentile(name)
    if q is not None:
        return Statistic(name, "p", Fraction(_PERCENTILE.fullmatch(name).group(1)) / 100,  # type: ignore[union-attr]
                         fraction=q)
    short = _SHORT.fullmatch(name)
    if short is not None:
        upper = Fraction(short.group(2))
        if upper <= 100:
            return Statistic(name, short.group(1).upper(), None, upper / 100, True)
    long = _LONG.fullmatch(name)
    if long is not None:
        kind, lo, lo_pct, hi, hi_pct = long.groups()
        stat = _range(name, kind, lo, lo_pct, hi, hi_pct)
        if stat is not None:
            return stat
    raise errors.InvalidParameterValue(f"The value {name} for parameter {parameter} is invalid.")


def _range(name: str, kind: str, lo: str | None, lo_pct: str, hi: str | None, hi_pct: str) -> Statistic | None:
    """The statistic of a long range form, or ``None`` when its bounds are not a valid range."""
    if lo is None and hi is None or (lo_pct and lo is None) or (hi_pct and hi is None):
        return None
    percents = {bool(p) for b, p in ((lo, lo_pct), (hi, hi_pct)) if b is not None}
    if len(percents) != 1:
        return None
    percent = percents.pop()
    if percent and kind == "PR":
        return None
    lower = None if lo is None else Fraction(lo)
    upper = None if hi is None else Fraction(hi)
    if percent:
        if any(b is not None and not 0 <= b <= 100 for b in (lower, upper)):
            return None
        lower = None if lower is None else lower / 100
        upper = None if upper is None else upper / 100
    if lower is not None and upper is not None and lower >= upper:
        return None
    return Statistic(name, kind, lower, upper, percent)


def statistic_value(stat: Statistic, stats: StatisticSet, histogram: Histogram | None) -> float | None:
    """One period's value of ``stat``; ``None`` when CloudWatch gives none.

    Args:
        stat: the statistic.
        stats: the period's statistic set (all of its data).
        histogram: the period's distinct values with their counts, sorted by value; ``None`` when
            none are known.

    Returns:
        The value. ``None`` for ``Average`` of no samples, for the percentile family when
        :func:`has_exact_percentiles` says no, and for ``TM``/``WM`` of a range that keeps nothing.
    """
    kind = stat.kind
    if kind == "SampleCount":
        return stats.sample_count
    if kind == "Sum":
        return stats.sum
    if kind == "Minimum":
        return stats.minimum
    if kind == "Maximum":
        return stats.maximum
    if kind == "Average":
        return stats.sum / stats.sample_count if stats.sample_count > 0 else None
    if not has_exact_percentiles(histogram, stats.sample_count, stats.minimum):
        return None
    assert histogram is not None
    if kind == "p":
        return percentiles(histogram, [stat.fraction])[0]
    return _trimmed(stat, histogram)


def _trimmed(stat: Statistic, histogram: Histogram) -> float | None:
    pairs = sorted((v, c) for v, c in histogram if c > 0)
    weights = _kept_weights(stat, pairs)
    total = math.fsum(c for _, c in pairs)
    kept = math.fsum(weights)
    kept_sum = math.fsum(w * v for (v, _), w in zip(pairs, weights, strict=True))
    kind = stat.kind
    if kind == "TC":
        return kept
    if kind == "TS":
        return kept_sum
    if kind == "PR":
        return 100.0 * kept / total
    if kept <= 0:
        return None
    if kind == "TM":
        return kept_sum / kept
    # WM: the samples outside the kept span take its nearest end.
    inside = [i for i, w in enumerate(weights) if w > 0]
    first, last = inside[0], inside[-1]
    below = math.fsum(c for _, c in pairs[:first]) + (pairs[first][1] - weights[first])
    above = total - kept - below
    return (kept_sum + below * pairs[first][0] + above * pairs[last][0]) / total


def _kept_weights(stat: Statistic, pairs: Sequence[tuple[float, float]]) -> list[float]:
    """How much of each value's count the statistic's range keeps (see the module docstring)."""
    if not stat.percent:
        lo = -math.inf if stat.lower is None else stat.lower
        hi = math.inf if stat.upper is None else stat.upper
        return [c if lo < v <= hi else 0.0 for v, c in pairs]
    total = Fraction(math.fsum(c for _, c in pairs))
    lo_rank = 0 if stat.lower is None else math.floor(stat.lower * total)
    hi_rank = total if stat.upper is None else math.floor(stat.upper * total)
    out = []
    before = 0.0
    for _, c in pairs:
        after = before + c
        out.append(max(0.0, min(after, float(hi_rank)) - max(before, float(lo_rank))))
        before = after
    return out
