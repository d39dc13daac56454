"""The auth service over a real grpc.aio server: signatures, errors as AWS codes, health.

Requests are signed by botocore's SigV4 signer, turned into questions by the gateway's
:mod:`gateway.sigv4`, and asked over gRPC exactly as the gateway asks; errors come back through
``error_from_rpc`` with their AWS code, as the gateway would see them.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import grpc
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from grpc_health.v1 import health_pb2, health_pb2_grpc
from multidict import CIMultiDict

from gateway import sigv4
from services.auth.domain import account_number
from services.auth.main import SERVICE_NAME, running
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.config import AuthSettings
from stackwatch.proto.auth.v1 import auth_pb2_grpc
from stackwatch.rpc import error_from_rpc

ACCOUNT = "0d5f0c4e-5b7e-4a53-9d2f-aaaaaaaaaaaa"
CREDS = [{"access_key_id": "AKIAAUTHTEST00000001", "secret_access_key": "auth-test-secret", "account_id": ACCOUNT,
          "user": "alice"},
         {"access_key_id": "AKIAAUTHTEST00000002", "secret_access_key": "second", "account_id": "acct-2",
          "user": "bob", "account_number": "000000000002", "active": False}]
WHEN = "20240501T120030Z"
KEY = b"contract-test-internal-key-00000"
CLOCK_AT = 1_714_564_830.0  # WHEN as epoch seconds


@pytest.fixture
async def auth(tmp_path):
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"credentials": CREDS}))
    clock = FakeClock(CLOCK_AT)
    async with running(AuthSettings(bind="127.0.0.1:0", credentials_file=str(path)), KEY, clock=clock) as handle:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
        yield auth_pb2_grpc.AuthServiceStub(channel), channel, clock
        await channel.close()


def _question(secret="auth-test-secret", akid="AKIAAUTHTEST00000001", service="monitoring", when=WHEN):
    req = AWSRequest(method="POST", url="http://gw.example:8080/", data=b"Action=ListMetrics&Version=2010-08-01",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    signer = SigV4Auth(Credentials(akid, secret), service, "us-east-1")
    req.context["timestamp"] = when
    req.headers["X-Amz-Date"] = when
    req.headers["Host"] = "gw.example:8080"
    sig = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
    req.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={akid}/{when[:8]}/us-east-1/{service}/aws4_request, "
        f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(req))}, Signature={sig}")
    url = urlsplit(req.url)
    return sigv4.authenticate_request("POST", url.path, url.query, CIMultiDict(req.headers.items()), req.body)


async def _ask(stub, question):
    try:
        return (await stub.Authenticate(question, timeout=5)).principal
    except grpc.aio.AioRpcError as e:
        raise error_from_rpc(e) from None


async def test_good_signature_names_the_principal(auth):
    stub, _, _ = auth
    p = await _ask(stub, _question())
    assert (p.account_id, p.user, p.access_key_id) == (ACCOUNT, "alice", "AKIAAUTHTEST00000001")
    assert p.account_number == account_number(ACCOUNT)


async def test_autoscaling_scope_is_served_too(auth):
    stub, _, _ = auth
    assert (await _ask(stub, _question(service="autoscaling"))).account_id == ACCOUNT


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"secret": "wrong"}, errors.SignatureDoesNotMatch, "does not match"),
    ({"akid": "AKIANOBODY0000000000"}, errors.InvalidClientTokenId, "security token"),
    ({"akid": "AKIAAUTHTEST00000002", "secret": "second"}, errors.InvalidClientTokenId, "disabled"),
    ({"service": "ec2"}, errors.SignatureDoesNotMatch, "valid service"),
    ({"when": "20240501T114500Z"}, errors.SignatureDoesNotMatch, "Signature expired"),
], ids=["wrong-secret", "unknown-key", "inactive-key", "foreign-service", "stale"])
async def test_refusals_carry_aws_codes(auth, kwargs, error, fragment):
    stub, _, _ = auth
    with pytest.raises(error) as exc:
        await _ask(stub, _question(**kwargs))
    assert fragment in exc.value.message


async def test_a_string_to_sign_that_disagrees_with_the_scope_is_refused(auth):
    stub, _, _ = auth
    q = _question()
    q.region = "eu-west-1"
    with pytest.raises(errors.IncompleteSignature):
        await _ask(stub, q)


async def test_secrets_and_signatures_never_reach_the_log(auth, caplog):
    stub, _, _ = auth
    caplog.set_level(logging.DEBUG)
    good = _question()
    await _ask(stub, good)
    bad = _question(secret="wrong")
    with pytest.raises(errors.SignatureDoesNotMatch):
        await _ask(stub, bad)
    text = caplog.text
    assert "auth-test-secret" not in text and good.signature not in text and bad.signature not in text
    assert "AKIAAUTHTEST00000001" in text  # the refusal is logged, by key id


async def test_health_reports_serving(auth):
    _, channel, _ = auth
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE_NAME):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
