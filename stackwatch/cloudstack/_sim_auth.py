"""How the simulator reads a request's parameters and decides who sent it, as CloudStack does.

Parameters (``ApiServlet.processRequestInContext``): the servlet container's parameter map —
query string pairs, then form-body pairs, name -> list of values — after which ``utf8Fixup``
re-decodes every ``name=value`` pair of the query string as UTF-8 and *replaces* that name's
values with it. So a name repeated in the query string counts with its **last** value, a name
repeated in a POST body with its first, and a query-string value wins over a body value.
Everything downstream takes ``values[0]``.

Verification (``ApiServer.verifyRequest``), in the source's order; every "no" is a 401
``unable to verify user credentials and/or request signature``:

1. no ``command``, or a command this server does not know (CloudStack answers an unknown command
   with this same 401, in an ``errorresponse`` wrapper, before looking at the signature);
2. no ``apiKey`` or no ``signature`` (names matched case-insensitively);
3. ``signatureVersion=3``: ``expires`` missing, unparsable or before now (otherwise ignored);
4. no user holds the key; the user or its account is not ``enabled``;
5. the role check: a command the caller's role may not use is a **432** (``UnavailableCommand``
   "The API [getUser] does not exist or is not available for the account acme."), raised
   before the signature is checked, as in the source;
6. the user has no secret key, or the HMAC differs.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from urllib.parse import unquote_plus

from stackwatch.cloudstack._signing import parse_expires, verify
from stackwatch.cloudstack._sim_state import ApiFailure, SimState, User

UNVERIFIED = "unable to verify user credentials and/or request signature"


class MalformedQuery(ValueError):
    """A percent-escape that does not decode (the container answers 400 before CloudStack runs)."""


def _decode(text: str) -> str:
    i = text.find("%")
    while i != -1:
        if len(text) < i + 3 or not all(c in "0123456789abcdefABCDEF" for c in text[i + 1:i + 3]):
            raise MalformedQuery(f"bad escape at offset {i}")
        i = text.find("%", i + 3)
    return unquote_plus(text, encoding="utf-8", errors="replace")


def servlet_params(query_string: str, form_body: str | None = None) -> dict[str, list[str]]:
    """The parameter map ``ApiServlet`` works with (see the module docstring).

    Raises:
        MalformedQuery: an undecodable percent-escape.
    """
    params: dict[str, list[str]] = {}
    query_pairs = [p for p in query_string.split("&") if p] if query_string else []
    body_pairs = [p for p in form_body.split("&") if p] if form_body else []
    for pair in (*query_pairs, *body_pairs):
        name, _, value = pair.partition("=")
        params.setdefault(_decode(name), []).append(_decode(value))
    for pair in query_pairs:
        tokens = pair.split("=", 1)
        if len(tokens) == 2:
            params[_decode(tokens[0])] = [_decode(tokens[1])]
    return params


def first(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The value CloudStack uses for ``name`` (its first), or None when absent."""
    values = params.get(name)
    return values[0] if values else None


def _java_order(name: str) -> bytes:
    return name.encode("utf-16-be", errors="surrogatepass")


def verify_request(params: Mapping[str, Sequence[str]], state: SimState, known: Container[str],
                   admin_only: Container[str]) -> User:
    """The user who signed this request.

    Raises:
        ApiFailure: 401 when the request does not verify, 432 when the role may not use the command.
    """
    denied = ApiFailure(401, UNVERIFIED, None)
    command = first(params, "command")
    if command is None or command not in known:
        raise denied
    api_key = signature = version = expires = None
    for name in sorted(params, key=_java_order):
        value = params[name][0]
        match name.lower():
            case "signature":
                signature = value
            case "apikey":
                api_key = value
            case "signatureversion":
                version = value
            case "expires":
                expires = value
    if signature is None or api_key is None:
        raise denied
    if version == "3":
        if expires is None:
            raise denied
        try:
            if parse_expires(expires).timestamp() < state.clock.now():
                raise denied
        except ValueError:
            raise denied from None
    user = state.user_by_api_key(api_key)
    if user is None:
        raise denied
    account = state.account_of(user)
    if user.state != "enabled" or account.state != "enabled":
        raise denied
    if command in admin_only and account.type != 1:
        raise ApiFailure(432, f"The API [{command}] does not exist or is not available for the account "
                              f"{account.name}.")
    if not user.secret_key or not verify(params, user.secret_key, signature):
        raise denied
    return user
