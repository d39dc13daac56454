"""Credentials from CloudStack itself: a tenant signs with the API keys CloudStack gave them.

StackWatch keeps no user database. For an access key it has not seen (or whose cache entry has
expired), the auth service asks CloudStack, signing with a service account's admin keys::

    getUser(userapikey=AK)           -> user: id, username, state, accountid        (431: no such key)
    listAccounts(id=accountid)       -> account: state
    getUserKeys(id=user id)          -> userkeys: apikey, secretkey                 (CloudStack 4.10+)
      else the deprecated user.secretkey of getUser, where a server still returns it

The tenant is the CloudStack **account UUID** (``accountid``). A user that is not ``enabled``
(``disabled``, ``locked``) or whose account is not ``enabled`` gets a known-but-inactive
credential, refused with a message saying why, exactly as CloudStack's own API refuses it. An
unknown key (431) is ``None``, which the cache keeps as a negative entry.

What the provider does not do itself: caching, coalescing and stale-while-error are the
:class:`~services.auth.cache.CachingProvider` around it, and retries with backoff and deadlines are
the :class:`~stackwatch.cloudstack.CloudStackClient`'s (reads only, transient failures only). A
failure that remains, or a refusal of our own admin keys (401/432/531: a configuration problem,
logged as an error), is :class:`~services.auth.provider.ProviderUnavailable`, so a tenant whose
key is cached keeps working and one whose key is not gets a retryable ``ServiceUnavailable``.
"""

from __future__ import annotations

import logging
from typing import Any

from services.auth.domain import Credential
from services.auth.provider import ProviderUnavailable
from stackwatch.cloudstack import CloudStackClient, CloudStackError, CloudStackUnavailable

LOG = logging.getLogger(__name__)

_NO_SUCH_KEY = 431  # PARAM_ERROR: "User with specified API key does not exist"
_UNSUPPORTED = 432  # the command does not exist (before 4.10) or the role may not call it


class CloudStackCredentialProvider:
    """Looks access keys up in CloudStack (see the module docstring).

    Args:
        client: a client signing with the StackWatch service account's keys (an Admin role, or a
            role allowed ``getUser``, ``getUserKeys`` and ``listAccounts``).
    """

    def __init__(self, client: CloudStackClient) -> None:
        self._client = client

    async def lookup(self, access_key_id: str) -> Credential | None:
        """The credential of ``access_key_id``; None when CloudStack knows no such key.

        Raises:
            ProviderUnavailable: CloudStack could not be asked, or refused our admin keys.
        """
        user = (await self._call("getUser", userapikey=access_key_id)).get("user")
        if user is None:
            return None
        if not isinstance(user, dict) or not user.get("accountid") or not user.get("id"):
            raise ProviderUnavailable("CloudStack's getUser answer lacks the user or account id.")
        secret = await self._secret(user, access_key_id)
        if secret is None:
            LOG.warning("CloudStack user %s has no secret key for %s", user.get("id"), access_key_id)
            return None
        account = await self._account(str(user["accountid"]))
        active, reason = _standing(user, account)
        return Credential(access_key_id=access_key_id, secret_access_key=secret, account_id=str(user["accountid"]),
                          user=str(user.get("username", "")), active=active, reason=reason)

    async def _call(self, command: str, **params: Any) -> dict[str, Any]:
        try:
            return await self._client.call(command, **params)
        except CloudStackUnavailable as e:
            raise ProviderUnavailable(f"CloudStack is unavailable ({command}: {e.errorcode})") from e
        except CloudStackError as e:
            if command == "getUser" and e.errorcode == _NO_SUCH_KEY:
                return {}
            if e.errorcode == _UNSUPPORTED and command == "getUserKeys":
                raise
            LOG.error("CloudStack refused %s with %d %s: check the service account's keys and role",
                      command, e.errorcode, e.errortext)
            raise ProviderUnavailable(f"CloudStack refused {command} ({e.errorcode})") from e

    async def _secret(self, user: dict[str, Any], access_key_id: str) -> str | None:
        try:
            keys = (await self._call("getUserKeys", id=str(user["id"]))).get("userkeys") or {}
        except CloudStackError:  # 432: a CloudStack before 4.10, or a role without getUserKeys
            keys = {}
        secret = keys.get("secretkey") if keys.get("apikey") in (None, access_key_id) else None
        return str(secret or user.get("secretkey") or "") or None

    async def _account(self, account_id: str) -> dict[str, Any]:
        found = (await self._call("listAccounts", id=account_id, listall=True)).get("account") or []
        return found[0] if found else {}

    async def close(self) -> None:
        """Close the CloudStack client."""
        await self._client.close()


def _standing(user: dict[str, Any], account: dict[str, Any]) -> tuple[bool, str]:
    """Whether the user may sign requests, and why not."""
    user_state = str(user.get("state", "")).lower()
    if user_state != "enabled":
        return False, f"The CloudStack user owning this access key is {user_state or 'not enabled'}."
    account_state = str(account.get("state", "")).lower()
    if account_state != "enabled":
        return False, f"The CloudStack account owning this access key is {account_state or 'not found'}."
    return True, ""
