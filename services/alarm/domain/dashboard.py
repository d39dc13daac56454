"""CloudWatch dashboards as values: name rules and the body check PutDashboard runs.

A dashboard is a name and a body, a JSON document the service stores byte for byte and gives back
verbatim from GetDashboard; it never rewrites it. PutDashboard checks the body first and answers
with :class:`BodyCheck`: *errors* mean the dashboard is not saved (the call fails with
``InvalidParameterInput`` carrying the messages), *warnings* mean it is saved and the messages come
back in ``DashboardValidationMessages``. Each message names where in the body it applies with a
JSON-pointer-like ``DataPath`` (``/widgets/0/properties/metrics/1``), as CloudWatch's do::

    body ──json──> object ── widgets (0-500) ── widget: type, x 0-23, y >= 0, width 1-24, height 1-1000
                                                 └── properties ── metric: metrics rows | annotations
                                                                   text:   markdown
                                                                   alarm:  alarms (ARNs)

What is checked is what decides whether a dashboard can be drawn: the document's structure, the
grid, and each metric row's shape (``[Namespace, MetricName, DimName, DimValue, ..., {options}]``,
``"."`` repeating the previous row's value at that position, or ``[{"expression": ...}]``). Options
CloudWatch accepts but StackWatch does not interpret (``liveData``, ``legend``, colours) pass
unexamined. Widgets of kinds StackWatch has no data for (CloudWatch Logs, Resource Explorer,
Lambda-backed custom widgets) are kept with a warning: they import, they just cannot show anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from stackwatch.domain.metric_rows import RowError, expand_row

#: Most bytes of a DashboardBody (UTF-8).
MAX_BODY_BYTES = 1024 * 1024
MAX_WIDGETS = 500
MAX_METRICS_PER_WIDGET = 500
MAX_METRICS_PER_DASHBOARD = 2500
MAX_NAME = 255
#: CloudWatch's grid is 24 columns wide.
GRID_COLUMNS = 24
MAX_HEIGHT = 1000

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]*$")
WIDGET_TYPES = ("metric", "text", "alarm", "log", "explorer", "custom")
#: Widget types whose data lives in services StackWatch does not have.
NO_DATA_TYPES = ("log", "explorer", "custom")
VIEWS = ("timeSeries", "singleValue", "bar", "pie", "gauge", "table")
_ROW_SHAPE = ('Field "metrics" has to be an array of array of strings, with an optional metricRenderer object '
              "as last element")


@dataclass(frozen=True, slots=True)
class ValidationMessage:
    """One ``DashboardValidationMessage``: where in the body, and what."""

    data_path: str
    message: str


@dataclass(frozen=True, slots=True)
class BodyCheck:
    """What :func:`check_body` found: errors stop the save, warnings do not."""

    errors: tuple[ValidationMessage, ...]
    warnings: tuple[ValidationMessage, ...]

    def summary(self) -> str:
        """The error text PutDashboard fails with: the count, then the messages as JSON."""
        listed = json.dumps([{"dataPath": m.data_path, "message": m.message} for m in self.errors], indent=2)
        return f"The dashboard body is invalid, there are {len(self.errors)} validation errors:\n{listed}"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a dashboard (None when it can): 1-255 of ``A-Za-z0-9_-``."""
    if not name:
        return "The value for field DashboardName must not be empty."
    if len(name) > MAX_NAME:
        return f"The value for field DashboardName must be at most {MAX_NAME} characters long."
    if not _NAME.match(name):
        return (f"The value {name} for field DashboardName contains invalid characters. "
                "It can only contain alphanumerics, dash (-) and underscore (_).")
    return None


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot be a DashboardNamePrefix (None when it can): up to 255 of ``A-Za-z0-9._-``."""
    if len(prefix) > MAX_NAME or not _PREFIX.match(prefix):
        return (f"The value {prefix} for field DashboardNamePrefix is invalid. It can be at most {MAX_NAME} "
                "characters of alphanumerics, period (.), dash (-) and underscore (_).")
    return None


class _Checker:
    """One walk over a parsed body, collecting messages."""

    def __init__(self) -> None:
        self.errors: list[ValidationMessage] = []
        self.warnings: list[ValidationMessage] = []
        self.metrics = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(ValidationMessage(path, message))

    def integer(self, value: Any, path: str, low: int, high: int | None) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self.error(path, "Should be integer")
        elif value < low:
            self.error(path, f"Should be >= {low}")
        elif high is not None and value > high:
            self.error(path, f"Should be <= {high}")

    def body(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            self.error("", "The field DashboardBody must be a valid JSON object")
            return
        for key in ("start", "end"):
            if key in doc and not isinstance(doc[key], str):
                self.error(f"/{key}", "Should be string")
        if "periodOverride" in doc and doc["periodOverride"] not in ("auto", "inherit"):
            self.error("/periodOverride", "Should be equal to one of the allowed values")
        if "widgets" not in doc:
            self.error("", "Should have required property 'widgets'")
            return
        widgets = doc["widgets"]
        if not isinstance(widgets, list):
            self.error("/widgets", "Should be array")
            return
        if len(widgets) > MAX_WIDGETS:
            self.error("/widgets", f"Should NOT have more than {MAX_WIDGETS} items")
        for i, widget in enumerate(widgets):
            self.widget(widget, f"/widgets/{i}")
        if self.metrics > MAX_METRICS_PER_DASHBOARD:
            self.error("/widgets", f"The dashboard has {self.metrics} metrics; at most "
                                   f"{MAX_METRICS_PER_DASHBOARD} are allowed")

    def widget(self, widget: Any, path: str) -> None:
        if not isinstance(widget, dict):
            self.error(path, "Should be object")
            return
        kind = widget.get("type")
        if kind is None:
            self.error(path, "Should have required property 'type'")
        elif kind not in WIDGET_TYPES:
            self.error(f"{path}/type", "Should be equal to one of the allowed values")
        for key, low, high in (("x", 0, GRID_COLUMNS - 1), ("y", 0, None), ("width", 1, GRID_COLUMNS),
                               ("height", 1, MAX_HEIGHT)):
            if key in widget:
                self.integer(widget[key], f"{path}/{key}", low, high)
        if kind not in WIDGET_TYPES:
            return
        if kind in NO_DATA_TYPES:
            self.warnings.append(ValidationMessage(
                f"{path}/type", f"StackWatch has no data for {kind} widgets; the widget is kept but shows nothing"))
        if "properties" not in widget:
            self.error(path, "Should have required property 'properties'")
            return
        props = widget["properties"]
        if not isinstance(props, dict):
            self.error(f"{path}/properties", "Should be object")
        elif kind == "metric":
            self.metric_properties(props, f"{path}/properties")
        elif kind == "text" and not isinstance(props.get("markdown"), str):
            self.error(f"{path}/properties", "Should have required property 'markdown'")
        elif kind == "alarm":
            alarms = props.get("alarms")
            if alarms is None:
                self.error(f"{path}/properties", "Should have required property 'alarms'")
            elif not isinstance(alarms, list) or not all(isinstance(a, str) for a in alarms):
                self.error(f"{path}/properties/alarms", "Should be array of strings")

    def metric_properties(self, props: dict[str, Any], path: str) -> None:
        if "metrics" not in props and "annotations" not in props:
            self.error(path, "Should have required property 'metrics'")
            self.error(path, "Should have required property 'annotations'")
        if "view" in props and props["view"] not in VIEWS:
            self.error(f"{path}/view", "Should be equal to one of the allowed values")
        for key in ("stat", "title", "region"):
            if key in props and not isinstance(props[key], str):
                self.error(f"{path}/{key}", "Should be string")
        if "stacked" in props and not isinstance(props["stacked"], bool):
            self.error(f"{path}/stacked", "Should be boolean")
        if "period" in props:
            self.integer(props["period"], f"{path}/period", 1, None)
        if "annotations" in props and not isinstance(props["annotations"], dict):
            self.error(f"{path}/annotations", "Should be object")
        if "metrics" in props:
            self.rows(props["metrics"], f"{path}/metrics")

    def rows(self, rows: Any, path: str) -> None:
        if not isinstance(rows, list):
            self.error(path, "Should be array")
            return
        if len(rows) > MAX_METRICS_PER_WIDGET:
            self.error(path, f"Should NOT have more than {MAX_METRICS_PER_WIDGET} items")
        self.metrics += len(rows)
        previous: list[str] = []
        for j, row in enumerate(rows):
            previous = self.row(row, f"{path}/{j}", previous)

    def row(self, row: Any, path: str, previous: list[str]) -> list[str]:
        """Check one metrics row; return its strings with ``"."`` resolved (for the next row)."""
        if not isinstance(row, list) or not row:
            self.error(path, "Should be array" if not isinstance(row, list) else "Should NOT have fewer than 1 items")
            self.error(path, _ROW_SHAPE)
            return previous
        *names, last = row
        options = last if isinstance(last, dict) else None
        if options is None:
            names.append(last)
        if any(not isinstance(n, str) for n in names):
            self.error(path, _ROW_SHAPE)
            return previous
        if not names:  # [{"expression": ...}]: metric math
            if options is None or not isinstance(options.get("expression"), str):
                self.error(path, "A row of only a rendering object should have the property 'expression'")
            elif "id" in options and not re.match(r"^[a-z][A-Za-z0-9_]*$", str(options["id"])):
                self.error(f"{path}/0/id", "Should match pattern \"^[a-z][a-zA-Z0-9_]*$\"")
            return previous
        try:
            return expand_row(names, previous)
        except RowError as e:
            self.error(path if e.index is None else f"{path}/{e.index}", e.message)
            return previous


def check_body(body: str) -> BodyCheck:
    """Check a DashboardBody as PutDashboard does (see the module docstring)."""
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        return BodyCheck((ValidationMessage("", f"The dashboard body must be at most {MAX_BODY_BYTES} bytes"),), ())
    try:
        doc = json.loads(body)
    except ValueError:
        return BodyCheck((ValidationMessage("", "The field DashboardBody must be a valid JSON object"),), ())
    checker = _Checker()
    checker.body(doc)
    return BodyCheck(tuple(checker.errors), tuple(checker.warnings))
