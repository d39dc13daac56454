"""Internal gRPC callers must prove who they act for; a bare account id is worth nothing.

These tests talk to the ingest service directly over gRPC, bypassing the gateway, the way another
program using our protos would.
"""

from __future__ import annotations

import time

import grpc
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

from gateway import sigv4
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import SigV4CallSigner, TokenSigner, error_from_rpc, principal_metadata
from tests.e2e.stack import INTERNAL_KEY, TENANTS

A, B = TENANTS["a"], TENANTS["b"]


def _principal(t):
    return auth_pb2.Principal(account_id=t["account_id"], user=t["user"], access_key_id=t["access_key_id"])


async def _call(stack, request, *, metadata=(), interceptors=None, method="ListMetrics"):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ingest_port}", interceptors=interceptors) as channel:
        stub = metrics_pb2_grpc.IngestServiceStub(channel)
        try:
            return await getattr(stub, method)(request, metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError as e:
            raise error_from_rpc(e) from None


LIST = metrics_pb2.ListMetricsRequest()


async def test_a_call_without_proof_is_refused(stack):
    with pytest.raises(errors.MissingAuthenticationToken):
        await _call(stack, LIST)


async def test_bare_account_metadata_is_ignored(stack):
    forged = (("x-stackwatch-account", A["account_id"]), ("x-stackwatch-user", "alice"))
    with pytest.raises(errors.MissingAuthenticationToken):
        await _call(stack, LIST, metadata=forged)


@pytest.mark.parametrize("how", ["tampered", "other-key", "expired", "garbage"])
async def test_bad_tokens_are_refused(stack, how):
    good = TokenSigner(INTERNAL_KEY).issue(_principal(A))
    if how == "tampered":
        body, mac = good.split(".")
        token = TokenSigner(b"x" * 32).issue(_principal(B)).split(".")[0] + "." + mac
    elif how == "other-key":
        token = TokenSigner(b"not-the-cluster-key-at-all").issue(_principal(A))
    elif how == "expired":
        token = TokenSigner(INTERNAL_KEY, FakeClock(time.time() - 3600)).issue(_principal(A))
    else:
        token = "not-a-token"
    with pytest.raises(errors.InvalidClientTokenId):
        await _call(stack, LIST, metadata=principal_metadata(token))


async def test_a_token_from_authenticate_is_accepted_and_scopes_the_call(stack, namespace):
    token = TokenSigner(INTERNAL_KEY).issue(_principal(B))
    put = metrics_pb2.PutMetricDataRequest(namespace=namespace, metric_data=[
        metrics_pb2.MetricDatum(metric_name="Internal", value=1.0)])
    assert (await _call(stack, put, metadata=principal_metadata(token), method="PutMetricData")).accepted == 1
    listed = await _call(stack, metrics_pb2.ListMetricsRequest(namespace=namespace), metadata=principal_metadata(token))
    assert [m.metric_name for m in listed.metrics] == ["Internal"]
    other = TokenSigner(INTERNAL_KEY).issue(_principal(A))
    assert not (await _call(stack, metrics_pb2.ListMetricsRequest(namespace=namespace),
                            metadata=principal_metadata(other))).metrics


async def test_calls_signed_with_api_keys_are_verified_by_auth(stack, namespace):
    signer = SigV4CallSigner(A["access_key_id"], A["secret_access_key"])
    put = metrics_pb2.PutMetricDataRequest(namespace=namespace, metric_data=[
        metrics_pb2.MetricDatum(metric_name="Signed", value=2.0)])
    assert (await _call(stack, put, interceptors=[signer], method="PutMetricData")).accepted == 1
    listed = await _call(stack, metrics_pb2.ListMetricsRequest(namespace=namespace), interceptors=[signer])
    assert [m.metric_name for m in listed.metrics] == ["Signed"]
    with pytest.raises(errors.SignatureDoesNotMatch):
        await _call(stack, LIST, interceptors=[SigV4CallSigner(A["access_key_id"], "wrong-secret")])
    with pytest.raises(errors.InvalidClientTokenId):
        await _call(stack, LIST, interceptors=[SigV4CallSigner("AKIANOBODY0000000000", "x")])


async def test_a_call_signature_covers_the_request_body(stack):
    class Swap(grpc.aio.UnaryUnaryClientInterceptor):
        """Sign one request, send another (what a man in the middle would try)."""

        async def intercept_unary_unary(self, continuation, details, request):
            return await continuation(details, metrics_pb2.ListMetricsRequest(namespace="Someone/Else"))

    signer = SigV4CallSigner(A["access_key_id"], A["secret_access_key"])
    with pytest.raises(errors.SignatureDoesNotMatch):
        await _call(stack, LIST, interceptors=[signer, Swap()])


async def test_the_auth_service_issues_tokens_the_services_accept(stack):
    """Authenticate's answer carries a token; ingest accepts exactly that token."""
    req = AWSRequest(method="POST", url="http://gw.example/", data=b"Action=ListMetrics&Version=2010-08-01",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                              "Host": "gw.example"})
    SigV4Auth(Credentials(A["access_key_id"], A["secret_access_key"]), "monitoring", "us-east-1").add_auth(req)
    question = sigv4.authenticate_request("POST", "/", "", CIMultiDict(req.headers.items()), req.body)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.auth_port}") as channel:
        answer = await auth_pb2_grpc.AuthServiceStub(channel).Authenticate(question, timeout=10)
    assert answer.principal.account_id == A["account_id"] and answer.principal_token
    assert (await _call(stack, LIST, metadata=principal_metadata(answer.principal_token))) is not None
