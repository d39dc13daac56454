"""Tenancy: the one way every service scopes what a caller may see, name and touch.

A verified :class:`~stackwatch.proto.auth.v1.auth_pb2.Principal` becomes a :class:`Tenant`, and
everything a service does for a request goes through it:

* **Data** is scoped by ``tenant.account_id`` (the CloudStack account UUID): every table's sort key
  starts with it and every query filters on it, so a read, list, write or delete of one tenant
  never reaches another's rows.
* **ARNs** name resources with ``tenant.account_number``, the stable 12-digit number clients expect
  in an ARN. :meth:`Tenant.arn` writes them; :meth:`Tenant.own` reads one a client sent and refuses
  an ARN of any other account as if the resource did not exist (it tells the caller nothing about
  other tenants).
* **Pagination tokens** are bound to the account that received them: :meth:`Tenant.page_token`
  writes one, :meth:`Tenant.read_page_token` refuses a token minted for anyone else, or garbage,
  with ``InvalidNextToken``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from stackwatch import errors
from stackwatch.domain.arn import Arn, account_number
from stackwatch.proto.auth.v1 import auth_pb2

_INVALID_TOKEN = "The service couldn't process your request because the NextToken is invalid."


@dataclass(frozen=True, slots=True)
class Tenant:
    """Whom a request acts for, as the services use it.

    Attributes:
        account_id: the data scope (CloudStack account UUID).
        account_number: the 12-digit account in ARNs.
        user: the user who signed (logs and audit only).
    """

    account_id: str
    account_number: str
    user: str = ""

    @classmethod
    def of(cls, principal: auth_pb2.Principal) -> Tenant:
        """The tenant of a verified principal."""
        if not principal.account_id:
            raise errors.MissingAuthenticationToken("The principal names no account.")
        return cls(principal.account_id, principal.account_number or account_number(principal.account_id),
                   principal.user)

    def arn(self, service: str, region: str, resource: str) -> str:
        """An ARN of this tenant's resource, e.g. ``arn:aws:cloudwatch:us-east-1:<n>:alarm:High``."""
        return str(Arn("aws", service, region, self.account_number, resource))

    def own(self, text: str, *, service: str, not_found: Callable[[str], errors.ServiceError],
            parameter: str = "ResourceARN") -> Arn:
        """Parse an ARN a client sent and make sure it names one of this tenant's resources.

        Args:
            text: the ARN as sent.
            service: the service it must belong to (``cloudwatch``, ``autoscaling``).
            not_found: the operation's "no such resource" error, raised for another account's ARN.
            parameter: the parameter name, for the malformed-ARN message.

        Raises:
            InvalidParameterValue: not an ARN of ``service``.
            the ``not_found`` error: an ARN of another account.
        """
        arn = Arn.parse(text, parameter=parameter)
        if arn.service != service:
            raise errors.InvalidParameterValue(f"Invalid ARN {text!r} for parameter {parameter}: not a {service} ARN.")
        if not hmac.compare_digest(arn.account, self.account_number):
            raise not_found(f"The resource {text} does not exist.")
        return arn

    def _tag(self) -> str:
        return hashlib.sha256(b"stackwatch-page\x00" + self.account_id.encode()).hexdigest()[:16]

    def page_token(self, position: list[Any]) -> str:
        """An opaque token holding ``position`` (JSON-able values), good for this tenant only."""
        body = orjson.dumps({"a": self._tag(), "p": position})
        return base64.urlsafe_b64encode(body).decode().rstrip("=")

    def read_page_token(self, token: str) -> list[Any]:
        """The position a token of this tenant holds.

        Raises:
            InvalidNextToken: garbage, or a token another tenant received.
        """
        try:
            doc = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if not isinstance(doc, dict) or not hmac.compare_digest(str(doc["a"]), self._tag()):
                raise ValueError("token of another account")
            position = doc["p"]
            if not isinstance(position, list):
                raise ValueError("no position")
            return position
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as e:
            raise errors.InvalidNextToken(_INVALID_TOKEN) from e
