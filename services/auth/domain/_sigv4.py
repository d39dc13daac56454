"""SigV4 verification: derive the signing key, sign the string to sign, compare in constant time.

The gateway built the string to sign from the request; here we only need the secret::

    kDate    = HMAC("AWS4" + secret, "20240501")
    kRegion  = HMAC(kDate, "us-east-1")
    kService = HMAC(kRegion, "monitoring")
    kSigning = HMAC(kService, "aws4_request")
    signature = hex(HMAC(kSigning, string_to_sign))

The request time must lie within :data:`SKEW_SECONDS` of the service's clock, in either
direction, as AWS enforces; the messages are AWS's, which SDKs read to correct their clock skew.
A presigned URL is good from its date until ``date + X-Amz-Expires`` (and not before its date,
beyond the same skew).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import time
from datetime import UTC, datetime

from stackwatch import errors
from stackwatch.sigv4 import signature, signing_key

SKEW_SECONDS = 15 * 60
_FMT = "%Y%m%dT%H%M%SZ"

__all__ = ["SKEW_SECONDS", "check_request_time", "check_sigv2_time", "parse_amz_date", "signing_key",
           "verify_sigv2", "verify_sigv4"]


def verify_sigv4(secret: str, date: str, region: str, service: str, string_to_sign: str,
                 signature_hex: str) -> bool:
    """True when ``signature_hex`` is the signature of ``string_to_sign`` under ``secret``."""
    expected = signature(signing_key(secret, date, region, service), string_to_sign)
    return hmac.compare_digest(expected.encode("ascii"), signature_hex.strip().lower().encode("ascii", "replace"))


def parse_amz_date(value: str) -> int:
    """``20240501T120030Z`` -> epoch seconds.

    Raises:
        IncompleteSignature: not an ISO-8601 basic-format UTC time.
    """
    try:
        return calendar.timegm(time.strptime(value, _FMT))
    except ValueError:
        raise errors.IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601") from None


def _fmt(epoch: float) -> str:
    return time.strftime(_FMT, time.gmtime(int(epoch)))


def check_request_time(request_date: str, now: float, *, expires: int | None = None) -> None:
    """Refuse a request signed too long ago or too far ahead of ``now``.

    Args:
        request_date: the signed ``X-Amz-Date``.
        now: the service's clock, epoch seconds.
        expires: ``X-Amz-Expires`` of a presigned URL; None for header-signed requests.

    Raises:
        SignatureDoesNotMatch: outside the window, worded as AWS words it.
        IncompleteSignature: an unreadable date.
    """
    signed = parse_amz_date(request_date)
    if signed > now + SKEW_SECONDS:
        raise errors.SignatureDoesNotMatch(
            f"Signature not yet current: {request_date} is still later than {_fmt(now + SKEW_SECONDS)} "
            f"({_fmt(now)} + 15 min.)")
    if expires is not None:
        if now > signed + expires:
            raise errors.SignatureDoesNotMatch(
                f"Signature expired: {request_date} is now earlier than {_fmt(now - expires)} "
                f"({_fmt(now)} - {expires} sec.)")
        return
    if signed < now - SKEW_SECONDS:
        raise errors.SignatureDoesNotMatch(
            f"Signature expired: {request_date} is now earlier than {_fmt(now - SKEW_SECONDS)} "
            f"({_fmt(now)} - 15 min.)")


def verify_sigv2(secret: str, method: str, string_to_sign: str, signature_b64: str) -> bool:
    """True when ``signature_b64`` is the SigV2 signature (``HmacSHA256``/``HmacSHA1``) of the string."""
    digest = hashlib.sha256 if method == "HmacSHA256" else hashlib.sha1
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), digest).digest())
    return hmac.compare_digest(expected, signature_b64.strip().encode("ascii", "replace"))


def _iso(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise errors.IncompleteSignature(f"Invalid date {value!r}: use ISO 8601, e.g. 2024-05-01T12:00:30Z.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def check_sigv2_time(timestamp: str, expires: str, now: float) -> None:
    """Refuse a SigV2 request whose ``Timestamp`` is over 15 minutes off, or whose ``Expires`` passed.

    Raises:
        RequestExpired: as AWS answers old query requests (HTTP 400).
        IncompleteSignature: an unreadable date.
    """
    if expires:
        if now > _iso(expires):
            raise errors.RequestExpired(f"Request has expired. Expires date is {expires}")
        return
    if abs(now - _iso(timestamp)) > SKEW_SECONDS:
        raise errors.RequestExpired(f"Request has expired. Timestamp date is {timestamp}")
