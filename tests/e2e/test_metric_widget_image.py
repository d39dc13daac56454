"""GetMetricWidgetImage end to end: real boto3 clients in each wire protocol, real data, decoded PNGs.

Every test runs once per protocol (json 1.0, query, rpc-v2-cbor). A series counts as drawn when
pixels of its colour appear inside the plot area (the legend, below it, is left out of the count).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from gateway.widgets import PALETTE
from tests.e2e import rawhttp
from tests.png import PNG_SIGNATURE, decode

WIDTH, HEIGHT = 640, 360
PLOT = (60, 14, WIDTH - 20, HEIGHT - 60)  # inside the axes: no title, legend and tick labels below
ANNOTATION = "#9d00ff"


def _minute(offset: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=offset)


@pytest.fixture
def hosts(cw, namespace):
    """CPU of hosts a (about 20), b (about 60) and c (about 90), each minute of the last 20."""
    data = [{"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": h}], "Timestamp": _minute(-m),
             "Value": base + (m % 5)} for m in range(1, 21) for h, base in (("a", 20.0), ("b", 60.0), ("c", 90.0))]
    cw.put_metric_data(Namespace=namespace, MetricData=data)
    return namespace


def _widget(namespace: str, rows: list[list[object]], **extra: object) -> str:
    metrics = [[namespace, "CPU", "Host", host, *opts] for host, *opts in rows]
    return json.dumps({"metrics": metrics, "period": 60, "start": "-PT30M", "end": "-PT0H",
                       "width": WIDTH, "height": HEIGHT, **extra})


def _image(cw, widget: str, **kw: str):
    out = cw.get_metric_widget_image(MetricWidget=widget, **kw)
    png = out["MetricWidgetImage"]
    assert isinstance(png, bytes) and png[:8] == PNG_SIGNATURE
    picture = decode(png)
    assert (picture.width, picture.height) == (WIDTH, HEIGHT)
    return picture


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def test_a_line_graph_of_two_series_and_an_annotation(cw, hosts):
    widget = json.dumps({"metrics": [[hosts, "CPU", "Host", "a"], [".", ".", ".", "b", {"label": "host b"}]],
                         "period": 60, "start": "-PT30M", "width": WIDTH, "height": HEIGHT, "title": "CPU",
                         "annotations": {"horizontal": [{"value": 75, "label": "high", "color": ANNOTATION}]}})
    picture = _image(cw, widget)
    assert picture.count(PALETTE[0], box=PLOT) > 150
    assert picture.count(PALETTE[1], box=PLOT) > 150
    assert picture.count(ANNOTATION, box=PLOT) > 150
    assert picture.count(PALETTE[2], box=PLOT) == 0


def test_a_hidden_series_is_absent_and_a_chosen_colour_is_used(cw, hosts):
    picture = _image(cw, _widget(hosts, [["a", {"visible": False}], ["b"], ["c", {"color": "#00aa00"}]]))
    assert picture.count(PALETTE[0]) == 0
    assert picture.count(PALETTE[1], box=PLOT) > 150
    assert picture.count("#00aa00", box=PLOT) > 150


@pytest.mark.parametrize("view", [{"stacked": True}, {"view": "singleValue"}, {"view": "bar"}, {"view": "pie"}],
                         ids=["stacked", "singleValue", "bar", "pie"])
def test_stacked_single_value_bar_and_pie_draw_every_series(cw, hosts, view):
    picture = _image(cw, _widget(hosts, [["a"], ["b"], ["c"]], **view))
    for color in PALETTE[:3]:
        assert picture.count(color) > 40, color


def test_a_math_expression_is_drawn_from_rows_it_hides(cw, hosts):
    widget = json.dumps({"metrics": [[hosts, "CPU", "Host", "a", {"id": "a", "visible": False}],
                                     ["...", "b", {"id": "b", "visible": False}],
                                     [{"expression": "a + b", "label": "a + b", "color": "#00aa00"}]],
                         "period": 60, "start": "-PT30M", "width": WIDTH, "height": HEIGHT})
    picture = _image(cw, widget)
    assert picture.count("#00aa00", box=PLOT) > 150
    assert picture.count(PALETTE[0]) == 0 and picture.count(PALETTE[1]) == 0


def test_no_data_is_an_image_not_an_error(cw, namespace):
    picture = _image(cw, _widget(namespace, [["nobody"]]))
    assert picture.count(PALETTE[0], box=PLOT) == 0


def test_a_tenant_never_sees_another_tenants_data(cw, cw_b, hosts):
    widget = _widget(hosts, [["a"], ["b"]])
    assert _image(cw, widget).count(PALETTE[0], box=PLOT) > 150
    theirs = _image(cw_b, widget)
    assert theirs.count(PALETTE[0], box=PLOT) == 0 and theirs.count(PALETTE[1], box=PLOT) == 0


@pytest.mark.parametrize(("widget", "code", "text"), [
    ("{not json", "InvalidParameterInput", "Should be valid JSON"),
    ('{"metrics": []}', "InvalidParameterInput", '"dataPath": "/metrics"'),
    ('{"metrics": [["NS", "M"]], "width": 5000}', "InvalidParameterInput", '"dataPath": "/width"'),
    ('{"metrics": [["NS", "M", {"color": "red"}]]}', "InvalidParameterInput", '"dataPath": "/metrics/0/2/color"'),
    ('{"metrics": [["NS", "M"]], "stat": "Mean"}', "InvalidParameterValue", "Stat"),
], ids=["json", "empty", "width", "color", "stat"])
def test_bad_widgets_get_cloudwatchs_errors(cw, widget, code, text):
    with pytest.raises(ClientError) as e:
        cw.get_metric_widget_image(MetricWidget=widget)
    got_code, status, message = _error(e)
    assert (got_code, status) == (code, 400) and text in message


def test_bad_output_format_and_missing_widget(cw_unvalidated):
    with pytest.raises(ClientError) as e:
        cw_unvalidated.get_metric_widget_image(MetricWidget='{"metrics": [["NS", "M"]]}', OutputFormat="jpeg")
    assert _error(e)[:2] == ("ValidationError", 400)
    with pytest.raises(ClientError) as e:
        cw_unvalidated.get_metric_widget_image()
    assert _error(e)[:2] == ("MissingParameter", 400)


@pytest.mark.parametrize("protocol", ["query", "json"])
def test_output_format_image_png_is_the_png_itself(stack, hosts, protocol):
    widget = _widget(hosts, [["a"]])
    if protocol == "query":
        body = urllib.parse.urlencode({"Action": "GetMetricWidgetImage", "Version": "2010-08-01",
                                       "MetricWidget": widget, "OutputFormat": "image/png"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    else:
        body = json.dumps({"MetricWidget": widget, "OutputFormat": "image/png"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0",
                   "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricWidgetImage"}
    request = urllib.request.Request(stack.endpoint + "/", data=body, method="POST",
                                     headers=dict(rawhttp.signed(stack.endpoint, body, headers)))
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["x-amzn-RequestId"]
        picture = decode(response.read())
    assert (picture.width, picture.height) == (WIDTH, HEIGHT)
    assert picture.count(PALETTE[0], box=PLOT) > 150
