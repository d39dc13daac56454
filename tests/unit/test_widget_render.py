"""Drawing widgets: exact sizes, every shown series in its colour, hidden ones absent, no data drawn as such."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from gateway.widgets import NO_DATA, PALETTE, Series, compact, draw, parse_widget, render_png, time_ticks
from tests.png import decode

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
ANNOTATION = "#9d00ff"


def widget(**doc: object):
    return parse_widget(json.dumps(doc), NOW)


def wave(w, shapes):
    """Each row gets a series from ``shapes`` (by position): 3 hours at the row's period."""
    out = []
    for i, row in enumerate(w.rows):
        start = (NOW - timedelta(hours=3)).timestamp()
        ts = [start + k * row.period for k in range(int(3 * 3600 / row.period))]
        out.append(Series(row=row, index=i, label=f"{row.metric_name} {i}", timestamps=ts,
                          values=[shapes[i](k) for k in range(len(ts))]))
    return out


def empty(w):
    return [Series(row=r, index=i, label=r.metric_name, timestamps=[], values=[]) for i, r in enumerate(w.rows)]


@pytest.mark.parametrize(("width", "height"), [(600, 400), (1, 1), (37, 13), (333, 777), (2000, 120)])
def test_the_png_has_exactly_the_size_asked(width, height):
    w = widget(metrics=[["NS", "A"], ["NS", "B"]], width=width, height=height, title="t",
               annotations={"horizontal": [{"value": 3, "label": "x"}]})
    picture = decode(render_png(w, wave(w, [lambda k: k, lambda k: -k])))
    assert (picture.width, picture.height) == (width, height)


def test_two_series_and_an_annotation_each_in_its_colour():
    w = widget(period=60, metrics=[["NS", "A"], ["NS", "B"]],
               annotations={"horizontal": [{"value": 120, "label": "limit", "color": ANNOTATION}]})
    picture = decode(render_png(w, wave(w, [lambda k: 50 + 20 * math.sin(k / 9), lambda k: 100 + k % 7])))
    plot = (60, 20, 580, 340)
    assert picture.count(PALETTE[0], box=plot) > 200
    assert picture.count(PALETTE[1], box=plot) > 200
    assert picture.count(ANNOTATION, box=plot) > 200
    assert picture.count(PALETTE[2]) == 0  # no third series, no third colour


def test_a_hidden_series_is_not_drawn_and_keeps_the_others_colours():
    w = widget(metrics=[["NS", "A", {"visible": False}], ["NS", "B"], ["NS", "C", {"color": "#00aa00"}]])
    picture = decode(render_png(w, wave(w, [lambda k: 5.0, lambda k: 10.0 + k, lambda k: 2.0 * k])))
    assert picture.count(PALETTE[0]) == 0
    assert picture.count(PALETTE[1]) > 100  # second row, second colour, though the first is hidden
    assert picture.count("#00aa00") > 100


def test_stacked_areas_each_in_their_colour_and_stacked():
    w = widget(stacked=True, metrics=[["NS", "A"], ["NS", "B"], ["NS", "C"]])
    series = wave(w, [lambda k: 10.0, lambda k: 10.0, lambda k: 10.0])
    fig = draw(w, series)
    assert fig.axes[0].get_ylim()[1] >= 30  # the top of the stack, not the largest single series
    picture = decode(render_png(w, series))
    for color in PALETTE[:3]:
        assert picture.count(color) > 100


@pytest.mark.parametrize("view", ["singleValue", "bar", "pie"])
def test_single_value_bar_and_pie_draw_each_series_in_its_colour(view):
    w = widget(view=view, metrics=[["NS", "A"], ["NS", "B"], ["NS", "C", {"visible": False}]])
    picture = decode(render_png(w, wave(w, [lambda k: 42.0, lambda k: 7.5, lambda k: 1.0])))
    assert picture.count(PALETTE[0]) > 20 and picture.count(PALETTE[1]) > 20
    assert picture.count(PALETTE[2]) == 0


def test_single_value_shows_the_latest_value_and_bar_lengths_follow_the_values():
    w = widget(view="singleValue", metrics=[["NS", "A"]])
    fig = draw(w, wave(w, [lambda k: float(k)]))
    assert "35" in [t.get_text() for t in fig.texts]  # 36 periods of 300 s: the last is k = 35
    w = widget(view="bar", metrics=[["NS", "A"], ["NS", "B"]])
    fig = draw(w, wave(w, [lambda k: 10.0, lambda k: 30.0]))
    bars = fig.axes[0].patches
    assert [b.get_width() for b in bars] == [10.0, 30.0]


def test_pie_slices_follow_the_latest_values_and_say_their_share():
    w = widget(view="pie", metrics=[["NS", "A"], ["NS", "B"], ["NS", "C"]])
    fig = draw(w, wave(w, [lambda k: 10.0, lambda k: 30.0, lambda k: 0.0]))
    wedges = fig.axes[0].patches
    assert [round(p.theta2 - p.theta1) for p in wedges] == [90, 270]  # C (zero) has no slice
    texts = [t.get_text() for t in fig.texts]
    assert any(t.endswith("(25%)") for t in texts) and any(t.endswith("(75%)") for t in texts)


@pytest.mark.parametrize("view", ["timeSeries", "singleValue", "bar", "pie"])
def test_no_data_is_an_empty_graph_saying_so(view):
    w = widget(view=view, title="nothing", metrics=[["NS", "A"]])
    fig = draw(w, empty(w))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert NO_DATA in texts
    assert decode(render_png(w, empty(w))).width == 600


def test_annotation_fill_and_vertical_band():
    w = widget(metrics=[["NS", "A"]],
               annotations={"horizontal": [{"value": 50, "fill": "below", "color": ANNOTATION}],
                            "vertical": [[{"value": "-PT2H", "color": "#0000ff"}, {"value": "-PT1H"}]]})
    fig = draw(w, wave(w, [lambda k: 100.0]))
    ax = fig.axes[0]
    spans = [p for p in ax.patches]
    assert len(spans) == 2  # the shaded area below 50 and the band between the two times
    picture = decode(render_png(w, wave(w, [lambda k: 100.0])))
    assert picture.count("#0000ff") > 50


def test_time_axis_labels_are_hours_and_minutes_in_the_widgets_zone():
    x0 = (NOW - timedelta(hours=3)).timestamp() / 86400
    labels = [label for _, label in time_ticks(x0, NOW.timestamp() / 86400, 7)]
    assert labels == ["15:00", "15:30", "16:00", "16:30", "17:00", "17:30", "18:00"]
    w = widget(metrics=[["NS", "A"]], timezone="+0130")
    fig = draw(w, wave(w, [lambda k: 1.0]))
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert shown[0] == "16:30" and shown[-1] == "19:30"
    week = [label for _, label in time_ticks(x0 - 7, x0, 8)]
    assert all(len(label) == 5 and "/" in label for label in week)


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (42, "42"), (42.567, "42.6"), (0.125, "0.125"), (1500, "1.5k"), (2_250_000, "2.25M"),
    (-3000, "-3k"), (7e9, "7B"),
])
def test_numbers_print_compactly(value, text):
    assert compact(value) == text


@pytest.mark.parametrize("view", ["timeSeries", "singleValue", "bar", "pie"])
def test_infinities_and_nans_from_math_do_not_break_a_graph(view):
    w = widget(view=view, stacked=view == "timeSeries", metrics=[["NS", "A"], ["NS", "B"]])
    bad = [math.inf, -math.inf, math.nan, 1.0]
    series = wave(w, [lambda k: bad[k % 4], lambda k: math.nan])
    assert decode(render_png(w, series)).width == 600
