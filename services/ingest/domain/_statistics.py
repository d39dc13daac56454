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

This module is pure and shared: the alarm service evaluates percentile alarms with the same
:func:`parse_percentile` and :func:`percentile`.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from fractions import Fraction
from itertools import accumulate

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
