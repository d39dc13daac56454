"""A credential and the account number that names its tenant in ARNs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from stackwatch import errors

_ACCOUNT_NUMBER = re.compile(r"^\d{12}$")


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


@dataclass(frozen=True, slots=True)
class Credential:
    """One access key pair and the principal it signs for.

    Attributes:
        access_key_id: the public half (CloudStack's API key).
        secret_access_key: the secret half; excluded from ``repr`` so it never reaches a log.
        account_id: the tenant: the CloudStack account UUID (or a static credential's account).
        user: the user owning the key, for logs and audit.
        account_number: the 12-digit ARN account; derived from ``account_id`` when not given.
        active: False when the user, the account or the key is disabled: the key then signs
            nothing, though it is known.
        reason: why an inactive key is refused (shown to the client).
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    account_id: str
    user: str = ""
    account_number: str = ""
    active: bool = True
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.access_key_id or not self.secret_access_key or not self.account_id:
            raise errors.StackWatchError("a credential needs an access key id, a secret and an account id")
        if not self.account_number:
            object.__setattr__(self, "account_number", account_number(self.account_id))
        elif not _ACCOUNT_NUMBER.match(self.account_number):
            raise errors.StackWatchError(
                f"account_number of {self.access_key_id} must be 12 digits, not {self.account_number!r}")
