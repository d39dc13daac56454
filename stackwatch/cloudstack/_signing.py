"""CloudStack request signing, byte for byte as ``ApiServer.verifyRequest`` checks it.

Pure functions, no I/O: the client signs with them and the simulator verifies with them, so
the two can only agree with each other by both agreeing with CloudStack.

How the management server computes the string it signs::

    every request parameter except ``signature`` (name compared case-insensitively)
      -> first value of each name                 (the servlet's parameter map is name -> String[])
      -> names sorted by Java ``String.compareTo`` (UTF-16 code units, case-sensitive),
         *before* lowercasing
      -> ``name=`` + ``URLEncoder.encode(value, UTF-8)`` with ``+`` replaced by ``%20``
         (names are not encoded: ``tags[0].key`` stays as it is)
      -> joined with ``&``, then the whole string lowercased
    signature = base64(HMAC-SHA1(secret as UTF-8, that string))

Java's ``URLEncoder`` leaves only ``A-Z a-z 0-9 . - * _`` alone, turns a space into ``+`` and
percent-encodes every other UTF-8 byte with upper-case hex. That differs from Python's
``urllib.parse.quote(value, safe="*")`` (what the ``cs`` client uses) in exactly one character:
``~``, which Python leaves alone and Java encodes as ``%7E``. We follow Java.

``signatureVersion=3`` adds ``expires`` (both are ordinary, signed parameters); the server then
rejects a request whose ``expires`` is missing, unparsable (see :func:`parse_expires`) or in the
past. Without ``signatureVersion=3`` ``expires`` is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone

#: What ``signed_params`` puts in ``expires``: ``cs`` and CloudStack's own UI use this form.
EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_")

ParamValues = Mapping[str, str] | Mapping[str, Sequence[str]] | Mapping[str, str | Sequence[str]]


def java_urlencode(value: str) -> str:
    r"""``URLEncoder.encode(value, "UTF-8").replaceAll("\\+", "%20")``, as CloudStack signs values.

    A lone surrogate (not valid UTF-16) becomes ``?`` first, as Java's encoder replaces it.
    """
    out: list[str] = []
    for byte in value.encode("utf-8", errors="replace"):
        if byte in _UNRESERVED:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("%20")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def _first(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    return value[0] if value else ""


def _java_order(name: str) -> bytes:
    # Java compares strings by UTF-16 code unit; big-endian UTF-16 bytes sort the same way.
    return name.encode("utf-16-be", errors="surrogatepass")


def string_to_sign(params: ParamValues) -> str:
    """The lowercased canonical string CloudStack computes the HMAC over.

    Args:
        params: every parameter of the request (decoded values). A sequence value stands for a
            repeated name; only its first value counts, as in ``verifyRequest``. ``signature``
            (any case) is left out.
    """
    parts = [f"{name}={java_urlencode(_first(params[name]))}"
             for name in sorted(params, key=_java_order) if name.lower() != "signature"]
    return "&".join(parts).lower()


def sign(params: ParamValues, secret: str) -> str:
    """Base64 HMAC-SHA1 of :func:`string_to_sign` keyed with ``secret`` (what goes in ``signature``)."""
    digest = hmac.new(secret.encode("utf-8"), string_to_sign(params).encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(params: ParamValues, secret: str, signature: str) -> bool:
    """True when ``signature`` is the signature of ``params`` under ``secret`` (constant time)."""
    return hmac.compare_digest(sign(params, secret).encode("utf-8"), signature.encode("utf-8"))


def format_expires(when: float) -> str:
    """``expires`` for epoch seconds ``when``, in UTC: ``2030-01-01T00:00:00+0000``."""
    return datetime.fromtimestamp(when, UTC).strftime(EXPIRES_FORMAT)


def signed_params(command: str, params: Mapping[str, str], api_key: str, secret: str,
                  expires_in: float | None = 600.0, now: float | None = None) -> dict[str, str]:
    """The full parameter set of a signed request, ``signature`` included.

    Adds ``apiKey``, ``command``, ``response=json`` and, unless ``expires_in`` is None (legacy,
    replayable forever), ``signatureVersion=3`` with ``expires`` = ``now + expires_in`` in UTC.

    Args:
        command: the API name, e.g. ``listZones`` (case-sensitive).
        params: the command's parameters, already strings.
        api_key: the caller's API key.
        secret: the caller's secret key; used for the HMAC only.
        expires_in: seconds the request stays valid; None for an unversioned request.
        now: epoch seconds to count from (default: the wall clock).
    """
    out = dict(params)
    out.update(apiKey=api_key, command=command, response="json")
    if expires_in is not None:
        out["signatureVersion"] = "3"
        out["expires"] = format_expires((time.time() if now is None else now) + expires_in)
    out["signature"] = sign(out, secret)
    return out


# DateUtil.parseTZDateString tries these java.time patterns in order and takes the first match.
# ISO_INSTANT is left out: everything it accepts, ISO_OFFSET_DATE_TIME accepts too. The pattern
# "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'" is left out as well: it parses no offset, so
# OffsetDateTime.parse can never succeed with it.
_DATE = r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{2}):(?P<mi>\d{2})"
_EXPIRES_PATTERNS = (
    # ISO_OFFSET_DATE_TIME: seconds and fraction optional, offset Z or +HH:MM[:ss]
    re.compile(_DATE + r"(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
               r"(?:(?P<z>Z)|(?P<sign>[+-])(?P<oh>\d{2}):(?P<om>\d{2})(?::(?P<os>\d{2}))?)",
               re.IGNORECASE),  # ISO formatters parse case-insensitively: 't' and 'z' pass
    # yyyy-MM-dd'T'HH:mm:ssZ  (Z = +HHMM)
    re.compile(_DATE + r":(?P<s>\d{2})(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2})"),
    # yyyy-MM-dd'T'HH:mm:ss.SSSSSSX  (X = Z, +HH or +HHMM)
    re.compile(_DATE + r":(?P<s>\d{2})\.(?P<f>\d{6})(?:(?P<z>Z)|(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2})?)"),
    # yyyy-MM-dd'T'HH:mm:ss.SSSSSSZ
    re.compile(_DATE + r":(?P<s>\d{2})\.(?P<f>\d{6})(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2})"),
    # legacy yyyy-MM-dd'T'HH:mm:ss'Z'Z, e.g. 2030-01-01T00:00:00Z+0000
    re.compile(_DATE + r":(?P<s>\d{2})Z(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2})"),
)


def _to_datetime(m: re.Match[str]) -> datetime:
    g = m.groupdict()
    if g.get("z"):
        offset = timedelta(0)
    else:
        offset = timedelta(hours=int(g["oh"]), minutes=int(g.get("om") or 0), seconds=int(g.get("os") or 0))
        if offset > timedelta(hours=18) or int(g.get("om") or 0) > 59 or int(g.get("os") or 0) > 59:
            raise ValueError("offset out of range")
        offset = -offset if g["sign"] == "-" else offset
    fraction = (g.get("f") or "").ljust(6, "0")[:6]
    return datetime(int(g["y"]), int(g["mo"]), int(g["d"]), int(g["h"]), int(g["mi"]), int(g.get("s") or 0),
                    int(fraction or 0), tzinfo=timezone(offset))


def parse_expires(text: str) -> datetime:
    """Parse an ``expires`` value the way CloudStack's ``DateUtil.parseTZDateString`` does.

    Accepted: ISO offset date-time (``2030-01-01T00:00:00+00:00``, ``...Z``, optional seconds and
    fraction), ``2030-01-01T00:00:00+0000``, the 6-digit-fraction variants
    (``...00.000000Z``, ``...00.000000+0000``) and the legacy ``2030-01-01T00:00:00Z+0000``.
    Nanoseconds beyond microseconds are dropped.

    Returns:
        An aware datetime.

    Raises:
        ValueError: the text matches none of those forms or names an impossible date.
    """
    for pattern in _EXPIRES_PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        try:
            return _to_datetime(m)
        except ValueError:
            continue
    raise ValueError(f"Unparseable date: {text!r}")
