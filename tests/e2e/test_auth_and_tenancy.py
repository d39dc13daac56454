"""Requests that must be refused, and tenants that must not see each other, over real HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.clients import cloudwatch
from tests.e2e.stack import TENANTS


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_wrong_secret_is_rejected(stack, protocol, tmp_path_factory):
    a = TENANTS["a"]
    cw = cloudwatch(stack.endpoint, protocol, a["access_key_id"], "not-the-secret", tmp_path_factory.getbasetemp())
    with pytest.raises(ClientError) as exc:
        cw.list_metrics()
    assert _code(exc) == ("SignatureDoesNotMatch", 403)


def test_unknown_key_is_rejected(stack, protocol, tmp_path_factory):
    cw = cloudwatch(stack.endpoint, protocol, "AKIAUNKNOWN000000000", "whatever", tmp_path_factory.getbasetemp())
    with pytest.raises(ClientError) as exc:
        cw.list_metrics()
    assert _code(exc) == ("InvalidClientTokenId", 403)


def _signed_list_metrics(endpoint: str, when: datetime, secret: str) -> urllib.request.Request:
    body = b"Action=ListMetrics&Version=2010-08-01"
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    req.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
    auth = SigV4Auth(Credentials(TENANTS["a"]["access_key_id"], secret), "monitoring", "us-east-1")
    # botocore's add_auth stamps the current time; build the signature for our chosen time instead.
    req.headers["X-Amz-Date"] = req.context["timestamp"]
    req.headers["Host"] = endpoint.split("://", 1)[1]
    canonical = auth.canonical_request(req)
    signature = auth.signature(auth.string_to_sign(req, canonical), req)
    req.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={TENANTS['a']['access_key_id']}/{req.context['timestamp'][:8]}/us-east-1/"
        f"monitoring/aws4_request, SignedHeaders={auth.signed_headers(auth.headers_to_sign(req))}, Signature={signature}")
    return urllib.request.Request(endpoint + "/", data=body, headers=dict(req.headers.items()), method="POST")


@pytest.mark.parametrize(("skew", "ok"), [(timedelta(minutes=-20), False), (timedelta(minutes=20), False),
                                          (timedelta(minutes=-10), True)], ids=["stale", "future", "within-skew"])
def test_request_date_must_be_within_fifteen_minutes(stack, skew, ok):
    req = _signed_list_metrics(stack.endpoint, datetime.now(UTC) + skew, TENANTS["a"]["secret_access_key"])
    if ok:
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
            assert b"<ListMetricsResponse" in resp.read()
        return
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 403
    body = exc.value.read().decode()
    assert "<Code>SignatureDoesNotMatch</Code>" in body and "Signature " in body


def test_unsigned_request_is_rejected(stack):
    req = urllib.request.Request(stack.endpoint + "/", data=b"Action=ListMetrics&Version=2010-08-01", method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in exc.value.read().decode()


def test_tenants_do_not_see_each_other(cw, cw_b, namespace):
    t = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=3)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Secret", "Dimensions": [{"Name": "I", "Value": str(i)}], "Timestamp": t, "Value": 7.0}
        for i in range(600)])
    # A sees its metrics, across two pages
    page = cw.list_metrics(Namespace=namespace)
    assert len(page["Metrics"]) == 500 and "NextToken" in page
    # B lists nothing, reads nothing, and cannot use A's pagination token
    assert cw_b.list_metrics(Namespace=namespace)["Metrics"] == []
    assert cw_b.list_metrics()["Metrics"] == [] or all(m["Namespace"] != namespace for m in cw_b.list_metrics()["Metrics"])
    stats = cw_b.get_metric_statistics(Namespace=namespace, MetricName="Secret", Dimensions=[{"Name": "I", "Value": "1"}],
                                       StartTime=t, EndTime=t + timedelta(minutes=1), Period=60, Statistics=["Sum"])
    assert stats["Datapoints"] == []
    with pytest.raises(ClientError) as exc:
        cw_b.list_metrics(Namespace=namespace, NextToken=page["NextToken"])
    assert _code(exc) == ("InvalidNextToken", 400)
    # B writing the same identity does not touch A's data
    cw_b.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Secret", "Dimensions": [{"Name": "I", "Value": "1"}], "Timestamp": t, "Value": 1000.0}])
    mine = cw.get_metric_statistics(Namespace=namespace, MetricName="Secret", Dimensions=[{"Name": "I", "Value": "1"}],
                                    StartTime=t, EndTime=t + timedelta(minutes=1), Period=60, Statistics=["Sum"])
    assert [d["Sum"] for d in mine["Datapoints"]] == [7.0]


def test_sigv2_signed_query_clients_work(stack, tmp_path_factory, namespace):
    a = TENANTS["a"]
    cw = cloudwatch(stack.endpoint, "query", a["access_key_id"], a["secret_access_key"],
                    tmp_path_factory.getbasetemp(), signature_version="v2")
    t = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "V2", "Timestamp": t, "Value": 3.0}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="V2", StartTime=t, EndTime=t + timedelta(minutes=1),
                                   Period=60, Statistics=["Sum"])
    assert [d["Sum"] for d in out["Datapoints"]] == [3.0]
    bad = cloudwatch(stack.endpoint, "query", a["access_key_id"], "wrong", tmp_path_factory.getbasetemp(),
                     signature_version="v2")
    with pytest.raises(ClientError) as exc:
        bad.list_metrics()
    assert _code(exc) == ("SignatureDoesNotMatch", 403)


def _sigv2_body(endpoint: str, secret: str, timestamp: str) -> bytes:
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote, urlencode

    params = {"Action": "ListMetrics", "Version": "2010-08-01", "AWSAccessKeyId": TENANTS["a"]["access_key_id"],
              "SignatureVersion": "2", "SignatureMethod": "HmacSHA256", "Timestamp": timestamp}
    host = endpoint.split("://", 1)[1].lower()
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    mac = hmac.new(secret.encode(), f"POST\n{host}\n/\n{query}".encode(), hashlib.sha256).digest()
    return urlencode({**params, "Signature": base64.b64encode(mac).decode()}).encode()


@pytest.mark.parametrize(("age", "status", "code"), [(timedelta(0), 200, None),
                                                     (timedelta(minutes=20), 400, "RequestExpired")],
                         ids=["fresh", "stale"])
def test_sigv2_timestamp_window(stack, age, status, code):
    when = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    req = urllib.request.Request(stack.endpoint + "/", data=_sigv2_body(stack.endpoint, TENANTS["a"]["secret_access_key"],
                                                                         when), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    if status == 200:
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        return
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == status and f"<Code>{code}</Code>" in exc.value.read().decode()


def _presigned(endpoint: str, expires: int) -> str:
    from botocore.auth import SigV4QueryAuth

    a = TENANTS["a"]
    req = AWSRequest(method="GET", url=endpoint + "/?Action=ListMetrics&Version=2010-08-01")
    SigV4QueryAuth(Credentials(a["access_key_id"], a["secret_access_key"]), "monitoring", "us-east-1",
                   expires=expires).add_auth(req)
    return req.prepare().url


def test_presigned_urls_work_until_they_expire(stack):
    with urllib.request.urlopen(_presigned(stack.endpoint, 300), timeout=10) as resp:
        assert resp.status == 200 and b"<ListMetricsResponse" in resp.read()
    url = _presigned(stack.endpoint, 1)
    import time

    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url, timeout=10)
    assert exc.value.code == 403 and "Signature expired" in exc.value.read().decode()


def test_a_session_token_is_refused_clearly(stack, protocol, tmp_path_factory):
    import boto3
    from botocore.config import Config

    from tests.e2e.clients import model_dir

    a = TENANTS["a"]
    core = __import__("botocore.session").session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(model_dir(protocol, tmp_path_factory.getbasetemp())))
    cw = boto3.session.Session(botocore_session=core, aws_access_key_id=a["access_key_id"],
                               aws_secret_access_key=a["secret_access_key"], aws_session_token="FwoGZXIvYXdzE",
                               region_name="us-east-1").client(
        "cloudwatch", endpoint_url=stack.endpoint, config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as exc:
        cw.list_metrics()
    assert _code(exc) == ("InvalidClientTokenId", 403)
    assert "session" in exc.value.response["Error"]["Message"]


def test_credentials_scoped_to_another_service_are_refused(stack):
    from botocore.auth import SigV4Auth as Signer

    a = TENANTS["a"]
    req = AWSRequest(method="POST", url=stack.endpoint + "/", data=b"Action=ListMetrics&Version=2010-08-01",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                              "Host": stack.endpoint.split("://", 1)[1]})
    Signer(Credentials(a["access_key_id"], a["secret_access_key"]), "ec2", "us-east-1").add_auth(req)
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(urllib.request.Request(stack.endpoint + "/", data=req.body, method="POST",
                                                      headers=dict(req.headers.items())), timeout=10)
    assert exc.value.code == 403 and "Credential should be scoped to correct service: 'monitoring'" in \
        exc.value.read().decode()
