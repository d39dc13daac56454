"""Fixtures of the end-to-end layer: a running stack and boto3 clients in each wire protocol."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.clients import cloudwatch
from tests.e2e.stack import TENANTS, Stack


@pytest.fixture(scope="session")
def stack(e2e_store_url, tmp_path_factory):
    """The whole stack on ephemeral ports, on the store the session chose."""
    s = Stack(e2e_store_url, "e2e_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("stack")).start()
    yield s
    s.stop()


@pytest.fixture(params=["json", "query", "cbor"])
def protocol(request):
    """Each wire protocol a real client speaks to CloudWatch."""
    return request.param


def _client(stack, protocol, tenant, tmp_path_factory, **config):
    t = TENANTS[tenant]
    return cloudwatch(stack.endpoint, protocol, t["access_key_id"], t["secret_access_key"],
                      tmp_path_factory.getbasetemp(), **config)


@pytest.fixture
def cw(stack, protocol, tmp_path_factory):
    """Tenant A's CloudWatch client in the test's protocol."""
    return _client(stack, protocol, "a", tmp_path_factory)


@pytest.fixture
def cw_b(stack, protocol, tmp_path_factory):
    """Tenant B's CloudWatch client in the test's protocol."""
    return _client(stack, protocol, "b", tmp_path_factory)


@pytest.fixture
def cw_unvalidated(stack, protocol, tmp_path_factory):
    """Tenant A's client with botocore's client-side validation off, so the server's is tested."""
    return _client(stack, protocol, "a", tmp_path_factory, parameter_validation=False)


@pytest.fixture
def namespace():
    """A namespace no other test writes to."""
    return f"E2E/{uuid.uuid4().hex[:12]}"


