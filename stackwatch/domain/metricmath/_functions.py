"""Every supported metric math function: its signatures (for the planner) and its body.

One table, :data:`FUNCTIONS`, maps a name to a :class:`Function`: the argument kinds it accepts
and the kind it returns (``S`` scalar, ``TS`` time series, ``TS[]`` array, ``STR`` a string
literal, ``KW`` a bare keyword such as ``REPEAT``), the keywords allowed at each position, and
the implementation. The planner types an expression from the signatures alone, so a bad call is
refused before anything is fetched; the evaluator calls ``impl`` with evaluated arguments.
The bodies live in :mod:`._pointwise` (per point or per series) and :mod:`._arrays`.

Semantics follow the "Metric math syntax and functions" page of the CloudWatch User Guide.
Where that page is silent, the choice is stated in the body's docstring and in
``__init__``'s list of unverified behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from stackwatch.domain.metricmath import _arrays as arrays
from stackwatch.domain.metricmath import _pointwise as pw
from stackwatch.domain.metricmath._context import Impl, array

S, TS, TSA, STR, KW = "S", "TS", "TS[]", "STR", "KW"


@dataclass(frozen=True, slots=True)
class Function:
    """One metric math function."""

    signatures: Mapping[tuple[str, ...], str]
    impl: Impl
    keywords: Mapping[int, frozenset[str]] = field(default_factory=dict)
    variadic: bool = False
    """CONCAT: any number (at least one) of TS / TS[] arguments, returning TS[]."""


def _sig(*pairs: tuple[tuple[str, ...], str]) -> dict[tuple[str, ...], str]:
    return dict(pairs)


def _if_signatures() -> dict[tuple[str, ...], str]:
    sigs: dict[tuple[str, ...], str] = {}
    for c in (S, TS):
        for a in (S, TS):
            sigs[(c, a)] = S if (c, a) == (S, S) else TS
            for b in (S, TS):
                sigs[(c, a, b)] = S if (c, a, b) == (S, S, S) else TS
    return sigs


_MAP = _sig(((S,), S), ((TS,), TS), ((TSA,), TSA))
_SERIES = _sig(((TS,), TS), ((TSA,), TSA))
_AGG = _sig(((TS,), S), ((TSA,), TS))
_SORT_BY = frozenset(pw.REDUCERS)

FUNCTIONS: dict[str, Function] = {
    "ABS": Function(_MAP, pw.elementwise(abs)),
    "CEIL": Function(_MAP, pw.elementwise(lambda v: float(math.ceil(v)))),
    "FLOOR": Function(_MAP, pw.elementwise(lambda v: float(math.floor(v)))),
    "LOG": Function(_MAP, pw.elementwise(math.log)),
    "LOG10": Function(_MAP, pw.elementwise(math.log10)),
    **{name: Function(_AGG, pw.aggregate(name)) for name in pw.REDUCERS},
    "DIFF": Function(_SERIES, pw.per_series(pw.diff)),
    "DIFF_TIME": Function(_SERIES, pw.per_series(pw.diff_time)),
    "RATE": Function(_SERIES, pw.per_series(pw.rate)),
    "RUNNING_SUM": Function(_SERIES, pw.per_series(pw.running_sum)),
    "FILL": Function(_sig(*(((x, f), x) for x in (TS, TSA) for f in (S, TS, KW))), pw.fill,
                     {1: frozenset({"REPEAT", "LINEAR"})}),
    "FIRST": Function(_sig(((TSA,), TS)), arrays.first),
    "LAST": Function(_sig(((TSA,), TS)), arrays.last),
    "IF": Function(_if_signatures(), pw.if_),
    "METRIC_COUNT": Function(_sig(((TSA,), S)), lambda a, c: float(len(array(a[0])))),
    "METRICS": Function(_sig(((), TSA), ((STR,), TSA)), arrays.metrics),
    "MINUTE": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(d.minute))),
    "HOUR": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(d.hour))),
    "DAY": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(d.isoweekday()))),
    "DATE": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(d.day))),
    "MONTH": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(d.month))),
    "YEAR": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(d.year))),
    "EPOCH": Function(_sig(((TS,), TS)), pw.date_part(lambda d: float(int(d.timestamp())))),
    "PERIOD": Function(_sig(((TS,), S)), pw.period),
    "REMOVE_EMPTY": Function(_sig(((TSA,), TSA)), lambda a, c: tuple(s for s in array(a[0]) if s.timestamps)),
    "SEARCH": Function(_sig(((STR, STR, S), TSA)), arrays.search),
    "SLICE": Function(_sig(((TSA, S), TSA), ((TSA, S, S), TSA)), arrays.slice_array),
    "SORT": Function(_sig(((TSA, KW, KW), TSA), ((TSA, KW, KW, S), TSA)), arrays.sort_array,
                     {1: _SORT_BY, 2: frozenset({"ASC", "DESC"})}),
    "TIME_SERIES": Function(_sig(((S,), TS)), pw.time_series),
    "CONCAT": Function({}, arrays.concat, variadic=True),
}

#: Documented functions StackWatch does not offer, with the reason given to the caller.
UNSUPPORTED: dict[str, str] = {
    "ANOMALY_DETECTION_BAND": "anomaly detection is not supported by StackWatch",
    "INSIGHT_RULE_METRIC": "Contributor Insights is not supported by StackWatch",
    "SERVICE_QUOTA": "service quotas are not supported by StackWatch",
    "DB_PERF_INSIGHTS": "Performance Insights is not supported by StackWatch",
    "LAMBDA": "Lambda-backed metric math is not supported by StackWatch",
}

