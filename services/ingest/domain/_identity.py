"""The rules for what names a metric: namespace, metric name and dimensions.

One set of rules serves three operations, which differ only in where the parameters sit in the
request and so in the query-style path an error names:

- PutMetricData: ``Namespace``, ``MetricData.member.N.MetricName``,
  ``MetricData.member.N.Dimensions.member.M.Name`` / ``.Value``.
- GetMetricStatistics: ``Namespace``, ``MetricName``, ``Dimensions.member.M.Name`` / ``.Value``.
- ListMetrics: ``Namespace`` and ``MetricName`` when given, its dimension filters
  ``Dimensions.member.M.Name`` / ``.Value`` (at most 10 filters, the Value optional), and
  ``RecentlyActive`` (:func:`validate_list_request`).

The paths are query-style (``member.N``, 1-based) whatever protocol the client spoke, because
CloudWatch is query-compatible and SDKs show its messages verbatim. Every check raises the first
violation it finds; nothing here collects several errors.

Limits (CloudWatch's model and documentation): a namespace has 1-255 characters, must not start
with ``:`` and must not contain ASCII control characters; a metric name has 1-255 characters; a
metric has at most 30 dimensions, each with a Name of 1-255 and a Value of 1-1024 characters, and
no name twice. A missing or empty required string is ``MissingParameter`` (a protobuf request
cannot tell the two apart); an optional one given empty is ``InvalidParameterValue`` ("must be
longer than 0 characters"), as is every other violation. The messages are the ones the gateway
gives for the same model rules (``gateway.awsproto``'s PARAMETER wording), so a caller sees the same
text whether the gateway or this module caught the request.
"""

from __future__ import annotations

from collections.abc import Sequence

from stackwatch import errors
from stackwatch.domain.metrics import Dimension, Dimensions, canonical_dimensions

MAX_NAME = 255
MAX_DIMENSION_VALUE = 1024
MAX_DIMENSIONS = 30
MAX_DIMENSION_FILTERS = 10

#: ListMetrics' RecentlyActive values (the model's enum).
RECENTLY_ACTIVE = ("PT3H",)

#: ASCII control characters (C0 and DEL): never allowed in a namespace.
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))


def require(value: str, path: str) -> None:
    """Raise ``MissingParameter`` when a required string is absent (empty)."""
    if not value:
        raise errors.MissingParameter(f"The parameter {path} is required.")


def check_not_empty(value: str, path: str) -> None:
    """Raise ``InvalidParameterValue`` when an optional string is given but empty."""
    if not value:
        raise errors.InvalidParameterValue(f"The parameter {path} must be longer than 0 characters.")


def check_length(value: str, path: str, limit: int) -> None:
    """Raise ``InvalidParameterValue`` when ``value`` has more than ``limit`` characters.

    The wording is CloudWatch's, which states the bound exclusively ("shorter than 1025
    characters" for a limit of 1024).
    """
    if len(value) > limit:
        raise errors.InvalidParameterValue(
            f"The parameter {path} must be shorter than {limit + 1} characters.")


def check_size(items: Sequence[object], path: str, limit: int) -> None:
    """Raise ``InvalidParameterValue`` when a list parameter has more than ``limit`` members."""
    if len(items) > limit:
        raise errors.InvalidParameterValue(
            f"The collection {path} must not have a size greater than {limit}.")


def check_namespace(namespace: str, path: str = "Namespace", *, required: bool = True) -> None:
    """Validate a namespace: 1-255 characters, no leading ``:``, no control characters.

    Args:
        namespace: the namespace.
        path: the parameter it came in.
        required: whether the operation requires it (an empty one is then missing, not invalid).

    Raises:
        MissingParameter: a required namespace is empty.
        InvalidParameterValue: an optional one is empty, or any namespace is too long, starts
            with ``:`` or contains a control character.
    """
    if required:
        require(namespace, path)
    else:
        check_not_empty(namespace, path)
    check_length(namespace, path, MAX_NAME)
    if namespace.startswith(":"):
        raise errors.InvalidParameterValue(
            f"The value {namespace} for parameter {path} is not matching the expected pattern [^:].*.")
    if any(ch in _CONTROL for ch in namespace):
        raise errors.InvalidParameterValue(f"The value for parameter {path} contains control characters.")


def check_metric_name(metric_name: str, path: str, *, required: bool = True) -> None:
    """Validate a metric name: 1-255 characters.

    Raises:
        MissingParameter: a required name is empty.
        InvalidParameterValue: an optional name is empty, or any name is longer than 255
            characters.
    """
    if required:
        require(metric_name, path)
    else:
        check_not_empty(metric_name, path)
    check_length(metric_name, path, MAX_NAME)


def check_dimensions(dims: Sequence[tuple[str, str]], path: str) -> Dimensions:
    """Validate one metric's dimensions and return them in canonical (sorted) order.

    Args:
        dims: (name, value) pairs in the order the client listed them.
        path: the query-style path of the list, e.g. ``MetricData.member.3.Dimensions``; member
            paths are built from it (``...Dimensions.member.2.Value``).

    Raises:
        InvalidParameterValue: more than 30 dimensions, a name or value too long, or a name that
            occurs twice (CloudWatch: "No metric may specify the same dimension name twice.").
        MissingParameter: a name or value is empty.
    """
    check_size(dims, path, MAX_DIMENSIONS)
    seen: set[str] = set()
    for m, (name, value) in enumerate(dims, 1):
        member = f"{path}.member.{m}"
        require(name, f"{member}.Name")
        check_length(name, f"{member}.Name", MAX_NAME)
        require(value, f"{member}.Value")
        check_length(value, f"{member}.Value", MAX_DIMENSION_VALUE)
        if name in seen:
            raise errors.InvalidParameterValue("No metric may specify the same dimension name twice.")
        seen.add(name)
    return canonical_dimensions(tuple(Dimension(n, v) for n, v in dims))


def validate_metric_identity(namespace: str, metric_name: str,
                             dims: Sequence[tuple[str, str]]) -> tuple[str, str, Dimensions]:
    """Validate the metric a GetMetricStatistics request names.

    The rules are PutMetricData's (see the module docstring), with top-level paths:
    ``Namespace``, ``MetricName``, ``Dimensions.member.N.Name``.

    Args:
        namespace: the request's Namespace.
        metric_name: the request's MetricName.
        dims: the request's dimensions as (name, value) pairs, in any order.

    Returns:
        ``(namespace, metric_name, dimensions)`` with the dimensions canonical (sorted by name),
        ready for :func:`~stackwatch.domain.metrics.series_id`.

    Raises:
        MissingParameter: an empty namespace, metric name, dimension name or value.
        InvalidParameterValue: any other violation.
    """
    check_namespace(namespace)
    check_metric_name(metric_name, "MetricName")
    return namespace, metric_name, check_dimensions(dims, "Dimensions")


def validate_list_filters(filters: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Validate ListMetrics' dimension filters.

    A filter is a dimension Name (required, 1-255 characters) and an optional Value (``None``
    matches any value; otherwise 1-1024 characters). At most 10 filters. Filters are returned as
    given, in order; naming a dimension twice is allowed (it simply narrows the match).

    Raises:
        MissingParameter: a filter without a name (``Dimensions.member.N.Name``).
        InvalidParameterValue: more than 10 filters, a name or value too long, or a value that is
            present but empty.
    """
    check_size(filters, "Dimensions", MAX_DIMENSION_FILTERS)
    for m, (name, value) in enumerate(filters, 1):
        member = f"Dimensions.member.{m}"
        require(name, f"{member}.Name")
        check_length(name, f"{member}.Name", MAX_NAME)
        if value is not None:
            check_not_empty(value, f"{member}.Value")
            check_length(value, f"{member}.Value", MAX_DIMENSION_VALUE)
    return list(filters)


def validate_list_request(namespace: str | None, metric_name: str | None,
                          filters: Sequence[tuple[str, str | None]],
                          recently_active: str | None) -> list[tuple[str, str | None]]:
    """Validate a ListMetrics request; its dimension filters, as :func:`validate_list_filters` gives them.

    Every parameter is optional; ``None`` means absent, and a parameter that is present is held
    to the model's rules even when it is empty: a namespace or metric name of 1-255 characters
    (a namespace also by the rules of :func:`check_namespace`), RecentlyActive one of
    :data:`RECENTLY_ACTIVE`.

    Raises:
        MissingParameter: a dimension filter without a name.
        InvalidParameterValue: a namespace, metric name or RecentlyActive that is empty or breaks
            its rule, or a bad dimension filter (see :func:`validate_list_filters`).
    """
    if namespace is not None:
        check_namespace(namespace, required=False)
    if metric_name is not None:
        check_metric_name(metric_name, "MetricName", required=False)
    checked = validate_list_filters(filters)
    if recently_active is not None and recently_active not in RECENTLY_ACTIVE:
        raise errors.InvalidParameterValue(
            f"The parameter RecentlyActive must be a value in the set [ {', '.join(RECENTLY_ACTIVE)} ].")
    return checked
