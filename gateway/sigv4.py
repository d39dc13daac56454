"""SigV4 on the gateway's side: from a raw HTTP request to the string the client signed.

The gateway never holds a secret. It reads the signature parameters a client sent (the
``Authorization`` header, or the ``X-Amz-*`` query parameters of a presigned URL), rebuilds the
canonical request from the request *as received* and hashes it into the string to sign, and sends
that to the auth service, which alone can derive the signing key and compare::

    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/monitoring/aws4_request,
                   SignedHeaders=content-type;host;x-amz-date, Signature=<hex>
        -> AuthenticateRequest(access_key_id, request_date, scope..., string_to_sign, signature)

Canonicalisation follows the SigV4 specification for non-S3 services, the rules botocore and the
other SDKs sign by:

* URI: the raw path (still percent-encoded as sent) with dot segments and empty segments removed,
  then percent-encoded once more, keeping ``/`` and ``~`` (non-S3 services encode twice).
* Query: every parameter but ``X-Amz-Signature``, names and values decoded and re-encoded per
  RFC 3986 (unreserved ``A-Za-z0-9-_.~`` kept), sorted by encoded name then value.
* Headers: exactly the ``SignedHeaders`` list, lowercase, values trimmed with runs of spaces
  collapsed, repeated headers joined by commas. ``host`` must be among them.
* Payload: ``x-amz-content-sha256`` when the client sent it, otherwise the SHA-256 of the body as
  received (still gzipped, if it was). A claimed hash that differs from the body's own is refused.

Legacy query clients that sign with SigV2 instead are handled by :mod:`gateway.sigv2`.
Everything here is pure; failures raise the AWS error a client would see
(``MissingAuthenticationToken``, ``IncompleteSignature``, ``InvalidClientTokenId`` for session
tokens, which StackWatch does not issue).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from gateway import sigv2
from stackwatch import errors
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.sigv4 import ALGORITHM, TERMINATOR, string_to_sign

_DATE = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
_UNRESERVED = "-_.~"
_UNSIGNED = frozenset({"UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})


@dataclass(frozen=True, slots=True)
class SignatureParts:
    """What a client sent to sign a request, from its header or its presigned URL.

    Attributes:
        access_key_id: the Credential's access key.
        scope_date: ``YYYYMMDD`` of the credential scope.
        region: the scope's region.
        service: the scope's service (``monitoring``, ``autoscaling``).
        signed_headers: lowercase header names, in the order given.
        signature: the lowercase hex signature.
        request_date: ``X-Amz-Date`` (``20240501T120030Z``).
        presigned: True when the parameters came from the query string.
        expires: ``X-Amz-Expires`` seconds of a presigned URL, else None.
    """

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    request_date: str
    presigned: bool = False
    expires: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and name != name.lower():
        value = headers.get(name.lower())
    return value


def _all_values(headers: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(headers, "getall", None)
    if getall is not None:
        return list(getall(name, []))
    value = headers.get(name)
    return [] if value is None else [value]


def _credential(value: str) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or not all(parts):
        raise errors.IncompleteSignature(
            f"Credential should have exactly 5 slash-separated components (got {len(parts)}): "
            "<access key>/<date>/<region>/<service>/aws4_request.")
    akid, date, region, service, terminator = parts
    if terminator != TERMINATOR:
        raise errors.IncompleteSignature(f"Credential should be scoped with a valid terminator: '{TERMINATOR}'.")
    if len(date) != 8 or not date.isascii() or not date.isdigit():
        raise errors.IncompleteSignature(f"Credential date {date} is not a valid YYYYMMDD date.")
    return akid, date, region, service


def _from_header(auth: str, headers: Mapping[str, str]) -> SignatureParts:
    if not _PRINTABLE_ASCII.match(auth):
        raise errors.IncompleteSignature(
            "The Authorization header may hold only printable ASCII characters: "
            f"{ALGORITHM} Credential=..., SignedHeaders=..., Signature=...")
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise errors.IncompleteSignature(
            f"Unsupported signature algorithm {algorithm or '(none)'}: StackWatch accepts {ALGORITHM}.")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            fields[name] = value.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise errors.IncompleteSignature(
            f"Authorization header requires {', '.join(repr(m) for m in missing)} parameter(s). "
            f"Authorization={ALGORITHM} ...")
    date = _header(headers, "x-amz-date")
    if date is None:
        raise errors.IncompleteSignature(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    akid, scope_date, region, service = _credential(fields["Credential"])
    return SignatureParts(akid, scope_date, region, service, _signed_header_names(fields["SignedHeaders"]),
                          fields["Signature"].lower(), date.strip())


def _from_query(params: Mapping[str, str]) -> SignatureParts:
    missing = [k for k in ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date")
               if not params.get(k)]
    if missing:
        raise errors.IncompleteSignature(
            f"AWS query-string parameters must include {', '.join(repr(m) for m in missing)}.")
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise errors.IncompleteSignature(f"X-Amz-Algorithm must be {ALGORITHM}.")
    expires: int | None = None
    if "X-Amz-Expires" in params:
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            raise errors.IncompleteSignature("X-Amz-Expires must be a number of seconds.") from None
        if not 1 <= expires <= 604_800:
            raise errors.IncompleteSignature("X-Amz-Expires must be between 1 and 604800 seconds.")
    akid, scope_date, region, service = _credential(params["X-Amz-Credential"])
    return SignatureParts(akid, scope_date, region, service, _signed_header_names(params["X-Amz-SignedHeaders"]),
                          params["X-Amz-Signature"].lower(), params["X-Amz-Date"], True, expires)


def _signed_header_names(value: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in value.split(";") if n.strip())
    if "host" not in names:
        raise errors.IncompleteSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    return names


def split_query(query_string: str) -> list[tuple[str, str]]:
    """Raw ``a=1&b=2`` -> decoded pairs, in order (``+`` kept literally, as SigV4 requires)."""
    pairs = []
    for item in query_string.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def signature_parts(headers: Mapping[str, str], query: Sequence[tuple[str, str]]) -> SignatureParts:
    """The signature parameters of a request, from its Authorization header or presigned query.

    Raises:
        MissingAuthenticationToken: the request carries no signature at all.
        IncompleteSignature: a signature is there but malformed.
        InvalidClientTokenId: the request carries a session token.
    """
    params = dict(query)
    if _header(headers, "x-amz-security-token") is not None or "X-Amz-Security-Token" in params:
        raise errors.InvalidClientTokenId(
            "The security token included in the request is invalid: StackWatch issues no session "
            "tokens; sign with your CloudStack API key and secret key alone.")
    auth = _header(headers, "authorization")
    if auth:
        return _from_header(auth, headers)
    if "X-Amz-Signature" in params or "X-Amz-Credential" in params:
        return _from_query(params)
    raise errors.MissingAuthenticationToken("Request is missing Authentication Token")


def canonical_uri(raw_path: str) -> str:
    """The SigV4 canonical URI of a raw (percent-encoded) request path."""
    segments: list[str] = []
    for part in raw_path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if segments:
                segments.pop()
            continue
        segments.append(part)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        path += "/"
    return quote(path, safe="/~")


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    """The SigV4 canonical query string of decoded pairs (``X-Amz-Signature`` left out)."""
    encoded = sorted((quote(k, safe=_UNRESERVED), quote(v, safe=_UNRESERVED))
                     for k, v in query if k != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Mapping[str, str], names: Sequence[str]) -> str:
    """``name:value`` lines for the signed headers (sorted, trimmed, repeated ones comma-joined)."""
    lines = []
    for name in sorted(set(names)):
        values = _all_values(headers, name)
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    return "\n".join(lines)


def payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    """The payload hash to sign: the body's SHA-256, checked against any hash the client claims.

    Raises:
        SignatureDoesNotMatch: ``x-amz-content-sha256`` names another hash than the body's.
    """
    actual = hashlib.sha256(body).hexdigest()
    claimed = _header(headers, "x-amz-content-sha256")
    if claimed is None:
        return actual
    claimed = claimed.strip()
    if claimed.lower() == actual:
        return claimed
    if claimed in _UNSIGNED:
        raise errors.SignatureDoesNotMatch("StackWatch requires signed payloads; UNSIGNED-PAYLOAD is not accepted.")
    raise errors.SignatureDoesNotMatch("The provided 'x-amz-content-sha256' header does not match what was computed.")


def authenticate_request(method: str, raw_path: str, query_string: str, headers: Mapping[str, str],
                         body: bytes, *, service: str = "monitoring",
                         form: Sequence[tuple[str, str]] | None = None) -> auth_pb2.AuthenticateRequest:
    """The auth service's question for one HTTP request, as received.

    Args:
        method: the HTTP method.
        raw_path: the path as sent, still percent-encoded, without the query string.
        query_string: the raw query string (without ``?``).
        headers: the request headers (case-insensitive mapping; ``getall`` used when present).
        body: the body bytes as sent (before any gunzip).
        service: the SigV4 name of the API the request is for (SigV2 does not sign it).
        form: for query-protocol requests, the decoded URL and form parameters; a request with no
            SigV4 signature but a SigV2 one among these is a SigV2 request (:mod:`gateway.sigv2`).

    Raises:
        MissingAuthenticationToken, IncompleteSignature, InvalidClientTokenId,
        SignatureDoesNotMatch: see :func:`signature_parts` and :func:`payload_hash`; also
            SignatureDoesNotMatch when a signed part (path, header value, SigV2 host) holds bytes
            that are not UTF-8: the string to sign is UTF-8 text, so no SDK signed those bytes.
    """
    try:
        return _question(method, raw_path, query_string, headers, body, service, form)
    except UnicodeError:
        # aiohttp decodes the request line and header values with surrogateescape, so bytes that
        # are not UTF-8 arrive as lone surrogates, which neither hashing nor protobuf accepts.
        raise errors.SignatureDoesNotMatch(
            "The request signature we calculated does not match the signature you provided: a signed "
            "part of the request is not valid UTF-8.") from None


def _question(method: str, raw_path: str, query_string: str, headers: Mapping[str, str], body: bytes,
              service: str, form: Sequence[tuple[str, str]] | None) -> auth_pb2.AuthenticateRequest:
    query = split_query(query_string)
    if (form is not None and _header(headers, "authorization") is None
            and not any(k in ("X-Amz-Signature", "X-Amz-Credential") for k, _ in query) and sigv2.is_sigv2(form)):
        if any(k == "SecurityToken" for k, _ in form):
            raise errors.InvalidClientTokenId("StackWatch issues no session tokens: SecurityToken is not accepted.")
        return sigv2.question(method, raw_path, headers, form, service)
    parts = signature_parts(headers, query)
    if not _DATE.match(parts.request_date):
        raise errors.IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{parts.request_date}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601")
    if parts.request_date[:8] != parts.scope_date:
        raise errors.SignatureDoesNotMatch(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{parts.scope_date}' != '{parts.request_date[:8]}', from '{parts.request_date}'.")
    missing = [n for n in parts.signed_headers if not _all_values(headers, n)]
    if missing:
        raise errors.SignatureDoesNotMatch(
            f"The request signature we calculated does not match the signature you provided: signed "
            f"header(s) {', '.join(missing)} not present in the request.")
    canonical = "\n".join((
        method.upper(), canonical_uri(raw_path), canonical_query(query),
        canonical_headers(headers, parts.signed_headers) + "\n", ";".join(sorted(set(parts.signed_headers))),
        payload_hash(headers, body)))
    return auth_pb2.AuthenticateRequest(
        access_key_id=parts.access_key_id, algorithm=ALGORITHM, request_date=parts.request_date,
        scope_date=parts.scope_date, region=parts.region, service=parts.service,
        string_to_sign=string_to_sign(parts.request_date, parts.scope_date, parts.region, parts.service, canonical),
        signature=parts.signature, expires_seconds=parts.expires or 0)
