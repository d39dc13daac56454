"""A credential and the account number that names its tenant in ARNs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stackwatch import errors
from stackwatch.domain.arn import account_number

__all__ = ["Credential", "account_number"]

_ACCOUNT_NUMBER = re.compile(r"^\d{12}$")


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
