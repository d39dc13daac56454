"""The metric math engine: CloudWatch's Expression language as a pure function of fetched data.

GetMetricData and metric-math alarms both run it. It does no I/O, reads no clock and imports no
gRPC or ClickHouse: data in, series out. A request passes through it in two steps, with the
shell (servicer, alarm evaluator) doing the fetching in between::

    [Query, ...] --plan()--> Plan ----------------------------------------------+
                              | .metric_ids  MetricStat Ids to fetch            |
                              | .searches    SEARCH(...) calls to resolve       |
                              v                                                 v
                  shell: store reads --> fetched {Id: Series}              evaluate(plan, fetched,
                         ListMetrics + reads --> searched {SearchCall:       searched, start, end,
                                                           [Series]}         period, timezone, now)
                                                                                 |
                                                      [Result, ...] <------------+
                                                      ReturnData queries, request order;
                                                      a TS[] gives several Results with one Id

The language (functions UPPERCASE, query Ids starting lowercase; precedence lowest first)::

    expr := expr OR expr | expr AND expr                (also || and &&)
          | expr (== | != | < | <= | > | >=) expr
          | expr (+ | -) expr | expr (* | /) expr | - expr | expr ^ expr
          | NUMBER | 'string' | "string" | Id | KEYWORD | FUNCTION(expr, ...) | [expr, ...] | (expr)

Values are scalars (S), time series (TS) and arrays of them (TS[]); an expression must end as TS
or TS[]. ``_syntax`` has the details of the grammar, ``_functions`` the table of functions.

``plan`` refuses a bad request with CloudWatch's error (ValidationError for Ids, syntax, unknown
Ids, cycles, types; see :mod:`._plan`). After that, ``evaluate`` refuses only a malformed
LabelOptions.Timezone or a grid of more than 100,800 points (InvalidParameterValue).

Modules: ``_syntax`` (tokenizer, Pratt parser, the grammar), ``_plan`` (checks, order, typing),
``_functions`` (the function table) with the bodies in ``_pointwise`` and ``_arrays`` and their
arguments in ``_context``, ``_evaluate`` (operators, labels of results), ``_labels`` (default and
dynamic labels), ``_series`` (point-wise helpers), ``_model`` (the dataclasses).

Behaviour chosen where AWS's documentation is silent (unverified against CloudWatch): error
message wording; default labels (metric name plus distinguishing dimension values; an
expression's Id); "Label MetricLabel" for arrays under a static Label; number and time formats in
dynamic labels; MIN/MAX/STDDEV across an array ignore missing points, STDDEV is the population
one; FILL REPEAT/LINEAR leave edge gaps; aggregates of an empty series have no value; CONCAT
flattens its arguments into one array; ^ binds tighter than unary minus.
"""

from stackwatch.domain.metricmath._evaluate import evaluate
from stackwatch.domain.metricmath._labels import default_label, default_labels, render_label
from stackwatch.domain.metricmath._model import MetricRef, Query, Result, SearchCall, Series
from stackwatch.domain.metricmath._plan import Plan, plan

__all__ = [
    "MetricRef",
    "Plan",
    "Query",
    "Result",
    "SearchCall",
    "Series",
    "default_label",
    "default_labels",
    "evaluate",
    "plan",
    "render_label",
]
