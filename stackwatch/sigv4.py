r"""SigV4's hashing, shared by everyone who signs or checks a signature; no HTTP, no secrets kept.

* the gateway builds the canonical request of an HTTP request (``gateway/sigv4.py``) and hashes
  it into the string to sign with :func:`string_to_sign`;
* the auth service derives the key with :func:`signing_key` and compares :func:`signature`s;
* internal gRPC callers sign their calls with the same two (``stackwatch.rpc``).

::

    canonical request ── sha256 ──> string to sign = ALGORITHM \n date \n scope \n hex digest
    secret ── HMAC chain over (date, region, service, "aws4_request") ──> signing key
    signature = hex(HMAC(signing key, string to sign))
"""

from __future__ import annotations

import hashlib
import hmac

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for one day (``YYYYMMDD``), region and service."""
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(k, region), service), TERMINATOR)


def signature(key: bytes, string_to_sign: str) -> str:
    """The lowercase hex signature of ``string_to_sign`` under a signing key."""
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def scope(date: str, region: str, service: str) -> str:
    """The credential scope ``date/region/service/aws4_request``."""
    return f"{date}/{region}/{service}/{TERMINATOR}"


def string_to_sign(request_date: str, scope_date: str, region: str, service: str, canonical_request: str) -> str:
    r"""``AWS4-HMAC-SHA256 \n date \n scope \n hex(sha256(canonical request))``."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{request_date}\n{scope(scope_date, region, service)}\n{digest}"


def payload_hash(body: bytes) -> str:
    """The hex SHA-256 of a payload."""
    return hashlib.sha256(body).hexdigest()
