r"""SigV2 on the gateway's side: what legacy query clients sign, rebuilt from the request.

Old query-protocol clients (and hand-written scripts) sign with Signature Version 2: no
Authorization header, the signature travels among the parameters::

    Action=ListMetrics&Version=2010-08-01&AWSAccessKeyId=AK...&SignatureVersion=2
    &SignatureMethod=HmacSHA256&Timestamp=2026-11-23T19%3A11%3A29Z&Signature=<base64>

The string to sign is ``METHOD \n host \n path \n canonical query``, where the host is the
Host header lowercased (with its port when it has one), and the canonical query is every
parameter except ``Signature``, sorted by name, name and value RFC 3986-encoded (``A-Za-z0-9-_.~``
left alone, space as ``%20``), joined by ``&``. Parameters are those of the URL and of a form
body together, as the service reads them. Like SigV4 it goes to the auth service, which alone
holds the secret; the auth service also checks ``Timestamp`` (within 15 minutes) or ``Expires``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from stackwatch import errors
from stackwatch.proto.auth.v1 import auth_pb2

METHODS = frozenset({"HmacSHA256", "HmacSHA1"})


def is_sigv2(params: Sequence[tuple[str, str]]) -> bool:
    """Whether the parameters carry a SigV2 signature."""
    return any(k == "SignatureVersion" for k, _ in params) and any(k == "Signature" for k, _ in params)


def canonical_query(params: Sequence[tuple[str, str]]) -> str:
    """Every parameter but ``Signature``, sorted by name, RFC 3986-encoded, ``&``-joined."""
    pairs = sorted((k, v) for k, v in params if k != "Signature")
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def question(method: str, raw_path: str, headers: Mapping[str, str], params: Sequence[tuple[str, str]],
             service: str) -> auth_pb2.AuthenticateRequest:
    """The auth service's question for a SigV2-signed query request.

    Args:
        method: the HTTP method.
        raw_path: the request path as sent (``/`` for every query API).
        headers: the request headers (``host`` is read).
        params: the decoded URL and form parameters.
        service: the SigV4 name of the API the request is for (``monitoring``), which SigV2 does
            not sign; the auth service checks that StackWatch serves it.

    Raises:
        IncompleteSignature: a parameter SigV2 needs is missing or unsupported.
    """
    values = dict(params)
    if values.get("SignatureVersion") != "2":
        raise errors.IncompleteSignature(
            f"Unsupported SignatureVersion {values.get('SignatureVersion')!r}: StackWatch accepts 2 and SigV4.")
    missing = [k for k in ("AWSAccessKeyId", "Signature", "SignatureMethod") if not values.get(k)]
    if missing:
        raise errors.IncompleteSignature(f"The request must contain the parameter {missing[0]}.")
    if values["SignatureMethod"] not in METHODS:
        raise errors.IncompleteSignature(
            f"Unsupported SignatureMethod {values['SignatureMethod']}: use HmacSHA256 or HmacSHA1.")
    if ("Timestamp" in values) == ("Expires" in values):
        raise errors.IncompleteSignature(
            "The request must contain either a valid (unexpired) Timestamp or an Expires parameter, not both.")
    host = (headers.get("host") or headers.get("Host") or "").lower()
    text = f"{method.upper()}\n{host}\n{raw_path or '/'}\n{canonical_query(params)}"
    return auth_pb2.AuthenticateRequest(
        access_key_id=values["AWSAccessKeyId"], algorithm=values["SignatureMethod"], signature_version=2,
        request_date=values.get("Timestamp", ""), expires=values.get("Expires", ""), service=service,
        string_to_sign=text, signature=values["Signature"])
