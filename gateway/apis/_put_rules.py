"""The model's rules for PutMetricData that the fast path (:mod:`._put_fast`) checks.

Read from botocore's CloudWatch model when imported, so the fast path follows the model: the
lengths of Namespace, MetricName and a dimension's Name and Value, the sizes of MetricData,
Dimensions, Values and Counts, StandardUnit's values, StorageResolution's range. The fast path
hard-codes only the *shape* of the input (which members exist, their types, which are
required); :func:`read_rules` checks that shape against the model and gives None when the model
says something else (a new datum member, another required member, a bound on a double, a wire
name or a flattened list), and then every request takes the generic walk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from botocore.model import OperationModel, Shape, StructureShape

from gateway import awsproto

_INT32_MAX = 2**31 - 1
_DATUM = {"MetricName": "string", "Dimensions": "list", "Timestamp": "timestamp", "Value": "double",
          "StatisticValues": "structure", "Values": "list", "Counts": "list", "Unit": "string",
          "StorageResolution": "integer"}
_INPUT = {"Namespace": "string", "MetricData": "list", "EntityMetricData": "list",
          "StrictEntityValidation": "boolean"}
STATISTICS = ("SampleCount", "Sum", "Minimum", "Maximum")


@dataclass(frozen=True, slots=True)
class Rules:
    """The model's constraints on PutMetricData that the fast path checks (inclusive bounds)."""

    namespace: tuple[int, float]  #: Namespace length
    data: tuple[int, float]  #: MetricData size (the fast path also wants at least one datum)
    metric_name: tuple[int, float]  #: MetricName length
    dimensions: tuple[int, float]  #: Dimensions size
    dimension_name: tuple[int, float]  #: Dimension Name length
    dimension_value: tuple[int, float]  #: Dimension Value length
    values: tuple[int, float]  #: Values size
    counts: tuple[int, float]  #: Counts size
    units: frozenset[str]  #: StandardUnit's enum
    storage_resolution: tuple[int, int]  #: StorageResolution range (model min/max within int32)


def _bounds(shape: Shape) -> tuple[int, float]:
    return shape.metadata.get("min", 0), shape.metadata.get("max", math.inf)


def _plain(shape: StructureShape, members: dict[str, str], required: set[str]) -> bool:
    """``shape`` has exactly these members, of these types, under their own wire names."""
    return (set(shape.members) == set(members) and set(shape.required_members) == required
            and all(m.type_name == members[n] and "name" not in m.serialization for n, m in shape.members.items()))


def _unbounded_double(shape: Shape) -> bool:
    return shape.type_name == "double" and "min" not in shape.metadata and "max" not in shape.metadata


def read_rules(operation: OperationModel) -> Rules | None:
    """The constraints to check, or None if the model is not the shape this module understands."""
    top = operation.input_shape
    if top is None or not _plain(top, _INPUT, {"Namespace"}):
        return None
    ns, data = top.members["Namespace"], top.members["MetricData"]
    datum = data.member
    if ns.metadata.get("enum") or datum.type_name != "structure" or not _plain(datum, _DATUM, {"MetricName"}):
        return None
    m = datum.members
    dimension, stats = m["Dimensions"].member, m["StatisticValues"]
    if (dimension.type_name != "structure" or not _plain(dimension, {"Name": "string", "Value": "string"},
                                                           {"Name", "Value"})
            or not _plain(stats, dict.fromkeys(STATISTICS, "double"), set(STATISTICS))):
        return None
    doubles = [m["Value"], m["Values"].member, m["Counts"].member, *stats.members.values()]
    strings = [ns, m["MetricName"], dimension.members["Name"], dimension.members["Value"]]
    lists = [data, m["Dimensions"], m["Values"], m["Counts"]]
    if (not all(_unbounded_double(s) for s in doubles) or any(s.metadata.get("enum") for s in strings)
            or any(s.serialization.get("flattened") or s.member.serialization.get("name") for s in lists)
            or not m["Unit"].metadata.get("enum")):
        return None
    resolution = m["StorageResolution"].metadata
    lowest, highest = max(resolution.get("min", 0), 0), min(resolution.get("max", _INT32_MAX), _INT32_MAX)
    return Rules(
        namespace=_bounds(ns), data=_bounds(data), metric_name=_bounds(m["MetricName"]),
        dimensions=_bounds(m["Dimensions"]), dimension_name=_bounds(dimension.members["Name"]),
        dimension_value=_bounds(dimension.members["Value"]), values=_bounds(m["Values"]),
        counts=_bounds(m["Counts"]), units=frozenset(m["Unit"].metadata["enum"]),
        storage_resolution=(lowest, highest))


RULES = read_rules(awsproto.CLOUDWATCH.operation_model("PutMetricData"))
