"""Tenancy: ARNs name the tenant's 12-digit account; another account's ARN or page token is refused."""

from __future__ import annotations

import pytest

from stackwatch import errors
from stackwatch.domain.arn import Arn, account_number
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.tenancy import Tenant

A = Tenant.of(auth_pb2.Principal(account_id="0d5f0c4e-5b7e-4a53-9d2f-aaaaaaaaaaaa", user="alice"))
B = Tenant.of(auth_pb2.Principal(account_id="6f1c2b9a-3e4d-4c2b-8a1f-bbbbbbbbbbbb", account_number="000000000042"))


def test_account_numbers_come_from_the_principal_or_the_uuid():
    assert A.account_number == account_number(A.account_id) and len(A.account_number) == 12
    assert B.account_number == "000000000042"
    with pytest.raises(errors.MissingAuthenticationToken):
        Tenant.of(auth_pb2.Principal())


def test_arns_round_trip():
    text = A.arn("cloudwatch", "us-east-1", "alarm:High CPU")
    assert text == f"arn:aws:cloudwatch:us-east-1:{A.account_number}:alarm:High CPU"
    assert A.own(text, service="cloudwatch", not_found=errors.ResourceNotFound).resource == "alarm:High CPU"
    dash = A.arn("cloudwatch", "", "dashboard/ops")
    assert Arn.parse(dash).region == "" and Arn.parse(dash).resource == "dashboard/ops"
    policy = ("arn:aws:autoscaling:us-east-1:" + A.account_number +
              ":scalingPolicy:1234:autoScalingGroupName/web:policyName/up")
    assert A.own(policy, service="autoscaling", not_found=errors.ResourceNotFound).resource.startswith("scalingPolicy:")


def test_another_accounts_arn_is_not_found():
    theirs = B.arn("cloudwatch", "us-east-1", "alarm:Secret")
    with pytest.raises(errors.ResourceNotFound) as exc:
        A.own(theirs, service="cloudwatch", not_found=errors.ResourceNotFound)
    assert exc.value.status == 404


@pytest.mark.parametrize("text", ["not-an-arn", "arn:aws:cloudwatch:us-east-1:12345:alarm:x",
                                  "arn:aws:cloudwatch:us-east-1:123456789012", "arn::cloudwatch:r:123456789012:x"])
def test_malformed_arns_are_invalid_parameter_values(text):
    with pytest.raises(errors.InvalidParameterValue):
        A.own(text, service="cloudwatch", not_found=errors.ResourceNotFound)


def test_wrong_service_arn_is_invalid():
    with pytest.raises(errors.InvalidParameterValue):
        A.own(A.arn("autoscaling", "us-east-1", "x"), service="cloudwatch", not_found=errors.ResourceNotFound)


def test_page_tokens_are_bound_to_their_tenant():
    token = A.page_token(["App", "Latency", "123"])
    assert A.read_page_token(token) == ["App", "Latency", "123"]
    for bad in (token, "garbage", "", token[:-3]):
        with pytest.raises(errors.InvalidNextToken):
            B.read_page_token(bad) if bad == token else A.read_page_token(bad)
