"""ARNs as StackWatch writes and reads them: ``arn:aws:<service>:<region>:<account>:<resource>``.

The account is always the tenant's 12-digit account number (see :mod:`stackwatch.tenancy`); the
region may be empty (CloudWatch dashboards are global). The resource part keeps whatever
separators its service uses (``alarm:Name``, ``dashboard/Name``,
``scalingPolicy:<id>:autoScalingGroupName/<g>:policyName/<p>``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from stackwatch import errors

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class Arn:
    """One parsed ARN."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @classmethod
    def parse(cls, text: str, *, parameter: str = "ResourceARN") -> Arn:
        """Parse ``text``.

        Raises:
            InvalidParameterValue: not ``arn:<partition>:<service>:<region>:<12 digits>:<resource>``.
        """
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
            raise errors.InvalidParameterValue(f"Invalid ARN {text!r} for parameter {parameter}.")
        if not _ACCOUNT.match(parts[4]):
            raise errors.InvalidParameterValue(
                f"Invalid ARN {text!r} for parameter {parameter}: the account must be 12 digits.")
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])


def account_number(account_id: str) -> str:
    """The 12-digit number that stands for ``account_id`` in every ARN StackWatch writes.

    Clients (Terraform, Grafana, SDK helpers) parse ARNs and expect a 12-digit account there,
    while a CloudStack account is a UUID. The number is derived from the UUID (its SHA-256, modulo
    10**12, zero-padded), so every process computes the same one with no table to share. Two
    accounts collide with probability about n**2 / 2e12 (5e-5 for 10,000 tenants); where that is
    not acceptable, the credentials give the number explicitly.
    """
    digest = hashlib.sha256(account_id.strip().lower().encode("utf-8")).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**12:012d}"
