"""SigV4: what the gateway rebuilds from a request must verify against what botocore signed.

botocore is the oracle: real clients (each wire protocol, gzipped bodies, presigned URLs) sign
requests; the gateway's :mod:`gateway.sigv4` rebuilds the string to sign from the bytes as they
would arrive, and the auth service's :func:`verify_sigv4` must accept exactly those and refuse any
tampering with a signed component.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from multidict import CIMultiDict

from gateway import sigv4
from services.auth.domain import check_request_time, parse_amz_date, verify_sigv4
from stackwatch import errors
from tests.e2e.clients import model_dir

AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HOST = "127.0.0.1:18765"


def _capture(protocol: str, tmp_path_factory: pytest.TempPathFactory, call: str, **params: object) -> AWSRequest:
    """The request a real botocore client sends for ``call`` in ``protocol``, captured before sending."""
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(model_dir(protocol, tmp_path_factory.getbasetemp())))
    client = core.create_client("cloudwatch", region_name="eu-west-3", endpoint_url=f"http://{HOST}",
                                aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                                config=Config(retries={"max_attempts": 1}))
    seen: dict[str, AWSRequest] = {}

    def stop(request: AWSRequest, **_: object) -> AWSResponse:
        seen["request"] = request
        return AWSResponse(request.url, 500, {}, None)

    client.meta.events.register("before-send", stop)
    try:
        getattr(client, call)(**params)
    except Exception:  # noqa: BLE001 - the fake 500 is expected
        pass
    return seen["request"]


def _question(req: AWSRequest):
    url = urlsplit(req.url)
    headers = CIMultiDict((k, v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items())
    headers.setdefault("Host", url.netloc)
    body = req.body if isinstance(req.body, bytes) else (req.body or "").encode()
    return sigv4.authenticate_request(req.method, url.path or "/", url.query, headers, body), headers, body


def _verifies(q) -> bool:
    return verify_sigv4(SECRET, q.scope_date, q.region, q.service, q.string_to_sign, q.signature)


BIG = [{"MetricName": "M", "Dimensions": [{"Name": "Host", "Value": f"h{i}"}], "Value": float(i)} for i in range(300)]


@pytest.mark.parametrize("protocol", ["json", "query", "cbor"])
@pytest.mark.parametrize(("call", "params"), [
    ("list_metrics", {"Namespace": "App/Web", "Dimensions": [{"Name": "Host ~ x", "Value": "a+b=c&d"}]}),
    ("put_metric_data", {"Namespace": "ünï/cødé", "MetricData": [{"MetricName": "Latency", "Value": 1.5}]}),
    ("put_metric_data", {"Namespace": "Big", "MetricData": BIG}),  # gzipped by botocore
], ids=["list", "put-unicode", "put-gzip"])
def test_botocore_signed_requests_verify(protocol, call, params, tmp_path_factory):
    req = _capture(protocol, tmp_path_factory, call, **params)
    q, _, body = _question(req)
    assert (q.access_key_id, q.region, q.service) == (AKID, "eu-west-3", "monitoring")
    assert _verifies(q)
    if params.get("Namespace") == "Big":
        assert req.headers["Content-Encoding"] in (b"gzip", "gzip") and body[:2] == b"\x1f\x8b"


def _signed(method="POST", path="/", query="", body=b"Action=ListMetrics&Version=2010-08-01",
            headers=None, when="20240501T120030Z"):
    req = AWSRequest(method=method, url=f"http://{HOST}{path}" + (f"?{query}" if query else ""), data=body,
                     headers=headers or {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                         "X-Custom": "  a   b  "})
    auth = SigV4Auth(Credentials(AKID, SECRET), "monitoring", "us-east-1")
    req.context["timestamp"] = when
    req.headers["X-Amz-Date"] = when
    req.headers["Host"] = HOST
    canonical = auth.canonical_request(req)
    sig = auth.signature(auth.string_to_sign(req, canonical), req)
    signed = auth.signed_headers(auth.headers_to_sign(req))
    req.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={AKID}/{when[:8]}/us-east-1/monitoring/aws4_request, "
                                    f"SignedHeaders={signed}, Signature={sig}")
    return req


def test_hand_signed_request_with_odd_path_and_query_verifies():
    req = _signed(method="GET", path="/a/./b//c/../d%20e", query="b=2&a=1&a=0&sp=x%20y&t=~&u=%C3%BC", body=b"")
    q, _, _ = _question(req)
    assert _verifies(q)


def _tamper(kind: str, req: AWSRequest) -> tuple[str, str, str, CIMultiDict, bytes]:
    url = urlsplit(req.url)
    headers = CIMultiDict(req.headers.items())
    method, path, query, body = req.method, url.path, url.query, req.body
    if kind == "method":
        method = "PUT"
    elif kind == "path":
        path = "/other"
    elif kind == "query":
        query = "extra=1"
    elif kind == "body":
        body = body + b"&Namespace=x"
    elif kind == "header":
        headers["X-Custom"] = "changed"
    elif kind == "content-type":
        headers["Content-Type"] = "application/json"
    elif kind == "host":
        headers["Host"] = "evil.example:18765"
    return method, path, query, headers, body


@pytest.mark.parametrize("kind", ["method", "path", "query", "body", "header", "content-type", "host"])
def test_tampering_with_a_signed_component_fails(kind):
    req = _signed()
    assert _verifies(_question(req)[0])
    method, path, query, headers, body = _tamper(kind, req)
    q = sigv4.authenticate_request(method, path, query, headers, body)
    assert not _verifies(q)


@pytest.mark.parametrize("field", ["date", "region", "service", "signature", "secret"])
def test_changed_scope_or_secret_fails(field):
    q, _, _ = _question(_signed())
    date, region, service, sig, secret = q.scope_date, q.region, q.service, q.signature, SECRET
    if field == "date":
        date = "20240502"
    elif field == "region":
        region = "us-west-2"
    elif field == "service":
        service = "autoscaling"
    elif field == "signature":
        sig = ("0" if sig[0] != "0" else "1") + sig[1:]
    else:
        secret = SECRET + "x"
    assert not verify_sigv4(secret, date, region, service, q.string_to_sign, sig)


def test_signed_date_header_is_part_of_the_string_to_sign():
    req = _signed()
    headers = CIMultiDict(req.headers.items())
    headers["X-Amz-Date"] = "20240501T120031Z"
    url = urlsplit(req.url)
    q = sigv4.authenticate_request("POST", url.path, url.query, headers, req.body)
    assert not _verifies(q)


def test_presigned_get_verifies():
    req = AWSRequest(method="GET", url=f"http://{HOST}/?Action=ListMetrics&Version=2010-08-01&Namespace=A%2FB")
    SigV4QueryAuth(Credentials(AKID, SECRET), "monitoring", "us-east-1", expires=300).add_auth(req)
    q, _, _ = _question(req.prepare())
    assert _verifies(q)
    assert "X-Amz-Signature" not in q.string_to_sign


@pytest.mark.parametrize(("headers", "error", "fragment"), [
    ({}, errors.MissingAuthenticationToken, "missing Authentication Token"),
    ({"Authorization": "AWS4-HMAC-SHA1 Credential=a/b/c/d/aws4_request"}, errors.IncompleteSignature, "algorithm"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, Signature=ab",
      "X-Amz-Date": "20240501T120030Z"}, errors.IncompleteSignature, "SignedHeaders"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring, SignedHeaders=host, "
      "Signature=ab", "X-Amz-Date": "20240501T120030Z", "Host": HOST}, errors.IncompleteSignature, "5 slash"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=x-amz-date, Signature=ab", "X-Amz-Date": "20240501T120030Z"},
     errors.IncompleteSignature, "'Host' must be a 'SignedHeader'"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host, Signature=ab", "Host": HOST}, errors.IncompleteSignature, "X-Amz-Date"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240502/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host, Signature=ab", "Host": HOST, "X-Amz-Date": "20240501T120030Z"},
     errors.SignatureDoesNotMatch, "Date in Credential scope"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host;x-gone, Signature=ab", "Host": HOST, "X-Amz-Date": "20240501T120030Z"},
     errors.SignatureDoesNotMatch, "x-gone"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host, Signature=ab", "Host": HOST, "X-Amz-Date": "2024-05-01T12:00:30Z"},
     errors.IncompleteSignature, "ISO-8601"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host, Signature=ab", "Host": HOST, "X-Amz-Date": "20240501T120030Z",
      "X-Amz-Security-Token": "tok"}, errors.InvalidClientTokenId, "session"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host, Signature=ab", "Host": HOST, "X-Amz-Date": "20240501T120030Z",
      "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}, errors.SignatureDoesNotMatch, "UNSIGNED-PAYLOAD"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240501/us-east-1/monitoring/aws4_request, "
      "SignedHeaders=host, Signature=ab", "Host": HOST, "X-Amz-Date": "20240501T120030Z",
      "X-Amz-Content-Sha256": "00" * 32}, errors.SignatureDoesNotMatch, "x-amz-content-sha256"),
], ids=["unsigned", "algorithm", "no-signed-headers", "short-credential", "host-unsigned", "no-date",
        "scope-date", "missing-signed-header", "bad-date", "session-token", "unsigned-payload", "wrong-body-hash"])
def test_malformed_signatures_get_aws_errors(headers, error, fragment):
    with pytest.raises(error) as exc:
        sigv4.authenticate_request("POST", "/", "", CIMultiDict(headers), b"")
    assert fragment in exc.value.message


NOW = parse_amz_date("20240501T120000Z")


@pytest.mark.parametrize(("date", "expires", "error"), [
    ("20240501T120000Z", None, None),
    ("20240501T114500Z", None, None),        # exactly 15 minutes old
    ("20240501T114459Z", None, "Signature expired: 20240501T114459Z is now earlier than 20240501T114500Z "
                               "(20240501T120000Z - 15 min.)"),
    ("20240501T121500Z", None, None),        # exactly 15 minutes ahead
    ("20240501T121501Z", None, "Signature not yet current: 20240501T121501Z is still later than "
                               "20240501T121500Z (20240501T120000Z + 15 min.)"),
    ("20240501T110000Z", 3600, None),        # presigned, one hour, at its last second
    ("20240501T105959Z", 3600, "Signature expired"),
], ids=["now", "15m-old", "too-old", "15m-ahead", "too-far-ahead", "presigned-valid", "presigned-expired"])
def test_request_time_window(date, expires, error):
    if error is None:
        check_request_time(date, NOW, expires=expires)
        return
    with pytest.raises(errors.SignatureDoesNotMatch) as exc:
        check_request_time(date, NOW, expires=expires)
    assert exc.value.message.startswith(error)


def test_amz_date_parses_as_utc():
    assert parse_amz_date("20240501T120030Z") == int(dt.datetime(2024, 5, 1, 12, 0, 30, tzinfo=dt.UTC).timestamp())
