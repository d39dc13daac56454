"""A signed request changed in any signed part is refused by the running gateway, over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.stack import TENANTS

BODY = b'{"Namespace": "Tamper/Test"}'


def _signed(endpoint: str) -> dict:
    a = TENANTS["a"]
    host = endpoint.split("://", 1)[1]
    req = AWSRequest(method="POST", url=endpoint + "/", data=BODY, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
        "x-amzn-query-mode": "true", "Host": host})
    SigV4Auth(Credentials(a["access_key_id"], a["secret_access_key"]), "monitoring", "us-east-1").add_auth(req)
    return {"method": "POST", "path": "/", "headers": dict(req.headers.items()), "body": BODY}


def _send(endpoint: str, r: dict) -> tuple[int, str]:
    req = urllib.request.Request(endpoint + r["path"], data=r["body"], method=r["method"], headers=r["headers"])
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _replace(auth: str, old: str, new: str) -> str:
    assert old in auth
    return auth.replace(old, new, 1)


TAMPERING = {
    "method": lambda r: r.update(method="PUT"),
    "path": lambda r: r.update(path="/other"),
    "query": lambda r: r.update(path="/?extra=1"),
    "body": lambda r: r.update(body=BODY.replace(b"Test", b"Tesx")),
    "content-type": lambda r: r["headers"].update({"Content-Type": "application/x-amz-json-1.1"}),
    "host": lambda r: r["headers"].update({"Host": "evil.example"}),
    "x-amz-date": lambda r: r["headers"].update({"X-Amz-Date": r["headers"]["X-Amz-Date"][:-3] + ("58Z" if not r["headers"]["X-Amz-Date"].endswith("58Z") else "57Z")}),
    "x-amz-target": lambda r: r["headers"].update({"X-Amz-Target": "GraniteServiceVersion20100801.ListDashboards"}),
    "x-amzn-query-mode": lambda r: r["headers"].update({"x-amzn-query-mode": "false"}),
    "region": lambda r: r["headers"].update({"Authorization": _replace(r["headers"]["Authorization"], "/us-east-1/",
                                                                        "/eu-west-1/")}),
    "service": lambda r: r["headers"].update({"Authorization": _replace(r["headers"]["Authorization"], "/monitoring/",
                                                                         "/autoscaling/")}),
    "signature": lambda r: r["headers"].update({"Authorization": r["headers"]["Authorization"][:-1] +
                                                ("0" if r["headers"]["Authorization"][-1] != "0" else "1")}),
}


def test_the_untampered_request_is_accepted(stack):
    status, body = _send(stack.endpoint, _signed(stack.endpoint))
    assert status == 200, body


@pytest.mark.parametrize("part", list(TAMPERING))
def test_tampering_with_a_signed_part_is_refused(stack, part):
    r = _signed(stack.endpoint)
    TAMPERING[part](r)
    status, body = _send(stack.endpoint, r)
    assert status == 403, body
    assert "SignatureDoesNotMatch" in body
