"""Any MetricWidget text is either refused with InvalidParameterInput or drawn: never another error."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.widgets import Series, parse_widget, render_png
from stackwatch import errors

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
KEYS = ["metrics", "width", "height", "start", "end", "period", "stat", "title", "view", "stacked", "yAxis",
        "annotations", "legend", "timezone", "setPeriodToTimeRange", "label", "color", "visible", "id", "expression",
        "value", "fill", "left", "right", "min", "max", "position", "horizontal", "vertical", "yAxis"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.floats(allow_nan=False),
                    st.sampled_from([".", "...", "NS", "M", "-PT1H", "-P7D", "2026-12-03T12:00:00Z", "#ff0000",
                                     "above", "below", "right", "bar", "singleValue", "+0130", "m1", "m1 + 1"]),
                    st.text(max_size=5))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
                      max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8),
    # with a good metrics row, so that the other members decide
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4).map(lambda d: {**d, "metrics": [["NS", "M"]]}),
    st.dictionaries(st.sampled_from(KEYS), SCALARS, max_size=3).map(lambda d: {"metrics": [["NS", "M", d]]})))
def test_any_widget_is_refused_properly_or_drawn(doc):
    try:
        w = parse_widget(json.dumps(doc), NOW)
    except errors.InvalidParameterInput as e:
        assert e.status == 400 and "validation errors" in e.message
        return
    w = w.__class__(**{**{f: getattr(w, f) for f in w.__dataclass_fields__}, "width": min(w.width, 300),
                       "height": min(w.height, 200)})
    start = w.start.timestamp()
    series = [Series(row=r, index=i, label=r.id, timestamps=[start, start + 60], values=[1.0, 2.0])
              for i, r in enumerate(w.rows)]
    assert render_png(w, series)[:4] == b"\x89PNG"
