"""botocore as the oracle: its client serializer makes our requests, its parser reads our responses."""

from __future__ import annotations

import urllib.parse
from typing import Any

import botocore.parsers
import botocore.serialize
from botocore.model import OperationModel

from gateway.awsproto import HttpRequest, HttpResponse, Protocol


def client_request(protocol: Protocol, operation_model: OperationModel, params: dict[str, Any],
                   validate: bool = True) -> HttpRequest:
    """The request a botocore client sends for ``params`` (validated by botocore first, unless not)."""
    serializer = botocore.serialize.create_serializer(protocol.value, include_validation=validate)
    wire = serializer.serialize_to_request(params, operation_model)
    body = wire["body"]
    if isinstance(body, dict):  # query: botocore form-encodes the dict when it prepares the request
        body = urllib.parse.urlencode(list(body.items())).encode()
    query = wire["query_string"]
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else \
        list(query.items())
    return HttpRequest.build(wire["method"], wire["url_path"], wire["headers"], pairs, body)


def client_parse(protocol: Protocol, operation_model: OperationModel,
                 response: HttpResponse) -> dict[str, Any]:
    """What a botocore client makes of ``response`` (``ResponseMetadata`` included)."""
    parser = botocore.parsers.create_parser(protocol.value)
    headers = {k.lower(): v for k, v in response.headers.items()}  # urllib3's headers are case-insensitive
    raw = {"status_code": response.status, "headers": headers, "body": response.body}
    parsed: dict[str, Any] = parser.parse(raw, operation_model.output_shape)  # type: ignore[arg-type]
    return parsed


def differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where ``got`` differs from ``want``, comparing types too (``1 == 1.0 == True`` won't do).

    Datetimes must both be timezone-aware and denote the same instant.
    """
    if type(got) is not type(want):
        return [f"{path or '.'}: {type(got).__name__} {got!r} != {type(want).__name__} {want!r}"]
    if isinstance(want, dict):
        out = [f"{path}.{k}: missing" for k in want if k not in got]
        out += [f"{path}.{k}: unexpected" for k in got if k not in want]
        for k in want:
            if k in got:
                out += differences(got[k], want[k], f"{path}.{k}")
        return out
    if isinstance(want, list):
        if len(got) != len(want):
            return [f"{path}: {len(got)} items != {len(want)}"]
        pairs = enumerate(zip(got, want, strict=True))
        return [d for i, (g, w) in pairs for d in differences(g, w, f"{path}[{i}]")]
    if hasattr(want, "tzinfo") and (got.tzinfo is None or want.tzinfo is None):
        return [f"{path}: naive datetime"]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]
