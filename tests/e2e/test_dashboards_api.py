"""CloudWatch's dashboard API end to end: real boto3 clients, over HTTP, in each wire protocol.

Every test runs once per protocol (json 1.0, query, rpc-v2-cbor) against the session's stack, whose
ListDashboards page is :data:`~tests.e2e.stack.DASHBOARD_PAGE_SIZE` (3) dashboards rather than
CloudWatch's 1000, so paging shows with a handful. Each test names its dashboards with a prefix of
its own and lists by that prefix, so tests sharing the tenant do not see each other's.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stackwatch.domain.arn import account_number
from tests.e2e.stack import DASHBOARD_PAGE_SIZE, TENANTS

# A body as the console writes one (spacing and key order kept on purpose: it must come back verbatim).
BODY = ('{"widgets": [ {"type":"metric", "x":0,"y":0, "width":12,"height":6, "properties": {"metrics": '
        '[["App","Latency","Service","web"], [".", ".", ".", "api", {"stat": "p99"}]], "view": "timeSeries", '
        '"region":"us-east-1", "title": "Latency \\u2014 \u00e9t\u00e9"}},\n  {"type":"text","x":12,"y":0,'
        '"width":12,"height":3,"properties":{"markdown":"# Web"}}],"start":"-PT6H"}')


def _prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}-"


def _arn(tenant: str, name: str) -> str:
    return f"arn:aws:cloudwatch::{account_number(TENANTS[tenant]['account_id'])}:dashboard/{name}"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _names(cw: Any, prefix: str) -> list[str]:
    pages = cw.get_paginator("list_dashboards").paginate(DashboardNamePrefix=prefix)
    return [e["DashboardName"] for page in pages for e in page["DashboardEntries"]]


def test_a_dashboard_comes_back_verbatim_with_its_global_arn(cw):
    name = _prefix() + "web"
    put = cw.put_dashboard(DashboardName=name, DashboardBody=BODY)
    assert put["DashboardValidationMessages"] == []
    got = cw.get_dashboard(DashboardName=name)
    assert got["DashboardBody"] == BODY
    assert got["DashboardName"] == name
    assert got["DashboardArn"] == _arn("a", name)  # no region: dashboards are global


def test_a_second_put_replaces_the_body_and_moves_last_modified(cw):
    prefix = _prefix()
    name = prefix + "web"
    cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[]}')
    [first] = cw.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
    cw.put_dashboard(DashboardName=name, DashboardBody=BODY)
    [second] = cw.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
    assert cw.get_dashboard(DashboardName=name)["DashboardBody"] == BODY
    assert (first["Size"], second["Size"]) == (14, len(BODY.encode("utf-8")))
    assert second["LastModified"] >= first["LastModified"]
    assert abs(second["LastModified"] - datetime.now(UTC)) < timedelta(minutes=1)
    assert second["DashboardArn"] == _arn("a", name)


def test_list_pages_by_name_within_the_prefix(cw):
    prefix = _prefix()
    names = [f"{prefix}{i:02d}" for i in range(7)]
    for name in reversed(names):
        cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[]}')
    cw.put_dashboard(DashboardName=prefix.rstrip("-") + "_other", DashboardBody='{"widgets":[]}')
    first = cw.list_dashboards(DashboardNamePrefix=prefix)
    assert [e["DashboardName"] for e in first["DashboardEntries"]] == names[:DASHBOARD_PAGE_SIZE]
    second = cw.list_dashboards(DashboardNamePrefix=prefix, NextToken=first["NextToken"])
    assert [e["DashboardName"] for e in second["DashboardEntries"]] == names[DASHBOARD_PAGE_SIZE:2 * DASHBOARD_PAGE_SIZE]
    assert _names(cw, prefix) == names  # the paginator follows NextToken to the end
    last = cw.list_dashboards(DashboardNamePrefix=prefix + "06")
    assert "NextToken" not in last and [e["DashboardName"] for e in last["DashboardEntries"]] == [names[6]]


def test_a_garbage_next_token_is_invalid_next_token(cw):
    with pytest.raises(ClientError) as exc:
        cw.list_dashboards(NextToken="not-a-token")
    assert _error(exc) == ("InvalidNextToken", 400)


def test_delete_removes_every_named_dashboard(cw):
    prefix = _prefix()
    for suffix in ("a", "b", "c"):
        cw.put_dashboard(DashboardName=prefix + suffix, DashboardBody='{"widgets":[]}')
    cw.delete_dashboards(DashboardNames=[prefix + "a", prefix + "c"])
    assert _names(cw, prefix) == [prefix + "b"]
    with pytest.raises(ClientError) as exc:
        cw.get_dashboard(DashboardName=prefix + "a")
    assert _error(exc) == ("ResourceNotFound", 404)


def test_delete_with_any_missing_name_deletes_nothing(cw):
    prefix = _prefix()
    cw.put_dashboard(DashboardName=prefix + "kept", DashboardBody='{"widgets":[]}')
    with pytest.raises(ClientError) as exc:
        cw.delete_dashboards(DashboardNames=[prefix + "kept", prefix + "missing"])
    assert _error(exc) == ("ResourceNotFound", 404)
    assert prefix + "missing" in exc.value.response["Error"]["Message"]
    assert _names(cw, prefix) == [prefix + "kept"]


def test_a_body_with_errors_is_refused_with_its_validation_messages_and_not_saved(cw):
    name = _prefix() + "bad"
    body = json.dumps({"widgets": [{"type": "metric", "x": 30, "properties": {"metrics": [["App"]]}},
                                   {"type": "text", "properties": {}}]})
    with pytest.raises(ClientError) as exc:
        cw.put_dashboard(DashboardName=name, DashboardBody=body)
    assert _error(exc) == ("InvalidParameterInput", 400)
    assert exc.value.response["Error"]["Message"].startswith(
        "The dashboard body is invalid, there are 3 validation errors:")
    assert exc.value.response["dashboardValidationMessages"] == [
        {"DataPath": "/widgets/0/x", "Message": "Should be <= 23"},
        {"DataPath": "/widgets/0/properties/metrics/0",
         "Message": "A metric row should name a namespace and a metric name"},
        {"DataPath": "/widgets/1/properties", "Message": "Should have required property 'markdown'"}]
    with pytest.raises(ClientError) as missing:
        cw.get_dashboard(DashboardName=name)
    assert _error(missing) == ("ResourceNotFound", 404)


@pytest.mark.parametrize(("body", "path"), [("not json", ""), ('{"start": "-PT1H"}', ""), ('{"widgets": 1}', "/widgets")])
def test_a_body_that_is_not_a_dashboard_is_invalid_parameter_input(cw, body, path):
    with pytest.raises(ClientError) as exc:
        cw.put_dashboard(DashboardName=_prefix() + "x", DashboardBody=body)
    assert _error(exc) == ("InvalidParameterInput", 400)
    assert [m["DataPath"] for m in exc.value.response["dashboardValidationMessages"]] == [path]


def test_a_body_with_only_warnings_is_saved_and_the_warnings_returned(cw):
    name = _prefix() + "logs"
    body = '{"widgets":[{"type":"log","x":0,"y":0,"width":24,"height":6,"properties":{"query":"fields @message"}}]}'
    put = cw.put_dashboard(DashboardName=name, DashboardBody=body)
    [warning] = put["DashboardValidationMessages"]
    assert warning["DataPath"] == "/widgets/0/type" and "log" in warning["Message"]
    assert cw.get_dashboard(DashboardName=name)["DashboardBody"] == body


@pytest.mark.parametrize("name", ["has space", "dot.ted", "x" * 256])
def test_a_bad_name_is_invalid_parameter_value(cw, name):
    with pytest.raises(ClientError) as exc:
        cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[]}')
    assert _error(exc) == ("InvalidParameterValue", 400)


def test_a_missing_dashboard_is_resource_not_found(cw):
    with pytest.raises(ClientError) as exc:
        cw.get_dashboard(DashboardName=_prefix() + "never")
    assert _error(exc) == ("ResourceNotFound", 404)


def test_tags_of_a_dashboard(cw):
    name = _prefix() + "tagged"
    cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[]}', Tags=[{"Key": "team", "Value": "web"}])
    arn = _arn("a", name)
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "web"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "ops"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "ops"},
                                                                   {"Key": "env", "Value": "prod"}]
    cw.untag_resource(ResourceARN=arn, TagKeys=["team", "absent"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    # re-putting keeps the tags (Tags apply to a new dashboard only) and tagging keeps LastModified
    cw.put_dashboard(DashboardName=name, DashboardBody=BODY, Tags=[{"Key": "ignored", "Value": "x"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]


def test_tagging_a_dashboard_that_does_not_exist_is_resource_not_found_exception(cw):
    for arn in (_arn("a", _prefix() + "none"),
                f"arn:aws:cloudwatch:us-east-1:{account_number(TENANTS['a']['account_id'])}:dashboard/x"):
        with pytest.raises(ClientError) as exc:
            cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
        assert _error(exc) == ("ResourceNotFoundException", 404)


def test_another_tenant_never_sees_lists_deletes_or_tags_a_dashboard(cw, cw_b):
    prefix = _prefix()
    name = prefix + "private"
    cw.put_dashboard(DashboardName=name, DashboardBody=BODY, Tags=[{"Key": "owner", "Value": "a"}])
    assert _names(cw_b, prefix) == []
    with pytest.raises(ClientError) as get:
        cw_b.get_dashboard(DashboardName=name)
    assert _error(get) == ("ResourceNotFound", 404)
    with pytest.raises(ClientError) as delete:
        cw_b.delete_dashboards(DashboardNames=[name])
    assert _error(delete) == ("ResourceNotFound", 404)
    for call in (lambda: cw_b.tag_resource(ResourceARN=_arn("a", name), Tags=[{"Key": "owner", "Value": "b"}]),
                 lambda: cw_b.untag_resource(ResourceARN=_arn("a", name), TagKeys=["owner"]),
                 lambda: cw_b.list_tags_for_resource(ResourceARN=_arn("a", name))):
        with pytest.raises(ClientError) as tag:
            call()
        assert _error(tag) == ("ResourceNotFoundException", 404)
    # B's dashboard of the same name is B's own; A's is untouched by all of the above
    cw_b.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[]}')
    assert cw_b.get_dashboard(DashboardName=name)["DashboardArn"] == _arn("b", name)
    assert cw.get_dashboard(DashboardName=name)["DashboardBody"] == BODY
    assert cw.list_tags_for_resource(ResourceARN=_arn("a", name))["Tags"] == [{"Key": "owner", "Value": "a"}]
