"""The HTTP values the codecs consume and produce, with no HTTP library behind them.

Like ``botocore/serialize.py`` returning a plain dict, the codecs take an :class:`HttpRequest` and
give back an :class:`HttpResponse`: frozen values the gateway builds from (and turns into) aiohttp
objects, and that tests build by hand or from botocore's serialized requests. Nothing here does
I/O; gunzipping ``Content-Encoding: gzip`` bodies and enforcing size limits is the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Protocol(StrEnum):
    """The three wire protocols CloudWatch speaks; values are botocore's protocol names."""

    QUERY = "query"
    JSON = "json"
    CBOR = "smithy-rpc-v2-cbor"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One AWS API request as received.

    Attributes:
        method: ``POST`` or ``GET`` (query requests may be GETs with everything in the URL).
        path: the URL path without the query string, e.g. ``/`` or
            ``/service/GraniteServiceVersion20100801/operation/PutMetricData``.
        headers: read only through ``headers.get(<lowercase name>)``. Pass aiohttp's
            ``CIMultiDictProxy`` as it is (case-insensitive), or a plain dict whose keys are
            already lowercase (:meth:`build` lowercases for you).
        query: the URL's query parameters as decoded ``(name, value)`` pairs, in order.
        body: the request body, already gunzipped by the caller.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    query: Sequence[tuple[str, str]] = ()
    body: bytes = b""

    @classmethod
    def build(cls, method: str, path: str, headers: Mapping[str, str] | None = None,
              query: Sequence[tuple[str, str]] = (), body: bytes = b"") -> HttpRequest:
        """Build a request from headers in any case (they are lowercased into a plain dict)."""
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        return cls(method=method, path=path, headers=lowered, query=list(query), body=body)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One response to send: status, headers (always including ``x-amzn-RequestId``) and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
