"""The principal a call acts for, carried in gRPC metadata.

The gateway authenticates every HTTP request with the auth service and forwards the verified
principal to the services it calls, in metadata keys ``x-stackwatch-account`` and friends. Services
call :func:`require_principal` at the top of every RPC: a call without a principal is refused with
``MissingAuthenticationToken``, so nothing is ever read or written without an account to scope it.

This is the one place that knows how a principal travels; making internal callers prove it (a
signature over the call) changes this module, not the services.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from stackwatch import errors
from stackwatch.proto.auth.v1 import auth_pb2

PRINCIPAL_KEYS = ("x-stackwatch-account", "x-stackwatch-user", "x-stackwatch-access-key",
                  "x-stackwatch-account-number")


def principal_metadata(principal: auth_pb2.Principal) -> tuple[tuple[str, str], ...]:
    """Metadata pairs that carry ``principal`` to the next service."""
    return (
        ("x-stackwatch-account", principal.account_id),
        ("x-stackwatch-user", principal.user),
        ("x-stackwatch-access-key", principal.access_key_id),
        ("x-stackwatch-account-number", principal.account_number),
    )


def principal_from_metadata(md: Sequence[tuple[str, Any]] | None) -> auth_pb2.Principal | None:
    """Read the principal back from invocation metadata (None when there is no account)."""
    values = {k: v for k, v in (md or ()) if k in PRINCIPAL_KEYS}
    account = values.get("x-stackwatch-account", "")
    if not isinstance(account, str) or not account:
        return None
    return auth_pb2.Principal(
        account_id=account,
        user=str(values.get("x-stackwatch-user", "")),
        access_key_id=str(values.get("x-stackwatch-access-key", "")),
        account_number=str(values.get("x-stackwatch-account-number", "")),
    )


def require_principal(context: grpc.aio.ServicerContext[Any, Any]) -> auth_pb2.Principal:
    """Return the caller's principal or raise ``MissingAuthenticationToken``."""
    principal = principal_from_metadata(context.invocation_metadata())
    if principal is None:
        raise errors.MissingAuthenticationToken("Request is missing a principal (x-stackwatch-account).")
    return principal
