"""Python values to CloudStack parameters, and which commands are safe to repeat.

CloudStack parameters are strings on the wire; the server parses them per the command's
``@Parameter`` type. :func:`encode_params` writes what the server parses: booleans as
``true``/``false`` (Java's ``Boolean.valueOf`` takes anything else as false), lists as one
comma-separated value (``ids``, ``resourceids``, ``virtualmachineids``), numbers with ``str()``;
None and empty lists are left out, as if not given. Map parameters are spelled out by
:func:`map_param`: ``tags[0].key=..&tags[0].value=..``.

:func:`is_idempotent` is the client's retry gate: ``list*``, ``get*`` and ``query*`` commands
only read, so running one twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

#: A value :func:`encode_params` accepts.
ParamValue = str | int | float | bool | Sequence[str | int] | None

#: Names the signer owns; callers may not pass them as command parameters (any case).
RESERVED = frozenset({"apikey", "command", "response", "signature", "signatureversion", "expires"})

_READ_PREFIXES = ("list", "get", "query")


def is_idempotent(command: str) -> bool:
    """True for commands that only read (``list*``, ``get*``, ``query*``)."""
    return command.startswith(_READ_PREFIXES)


def _encode(value: str | int | float | bool | Sequence[str | int]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return ",".join(str(v) for v in value)


def encode_params(params: Mapping[str, ParamValue]) -> dict[str, str]:
    """The wire strings of ``params``; None values and empty lists are dropped.

    Raises:
        ValueError: a parameter name is one the signer sets (``apiKey``, ``signature``, ...).
        TypeError: a value is a mapping (use :func:`map_param`) or of an unsupported type.
    """
    out: dict[str, str] = {}
    for name, value in params.items():
        if name.lower() in RESERVED:
            raise ValueError(f"parameter {name} is set by the signer, not by the caller")
        if value is None or (isinstance(value, Sequence) and not isinstance(value, str) and not value):
            continue
        if isinstance(value, Mapping):
            raise TypeError(f"parameter {name}: spell map parameters out with map_param({name!r}, [...])")
        if not isinstance(value, str | int | float | bool | Sequence):
            raise TypeError(f"parameter {name}: unsupported type {type(value).__name__}")
        out[name] = _encode(value)
    return out


def map_param(name: str, entries: Iterable[Mapping[str, object]]) -> dict[str, str]:
    """Spell a CloudStack map parameter out: ``name[i].field=value`` for each entry and field.

    >>> map_param("tags", [{"key": "sw-group", "value": "web"}])
    {'tags[0].key': 'sw-group', 'tags[0].value': 'web'}

    Booleans become ``true``/``false``; None fields are left out.
    """
    out: dict[str, str] = {}
    for index, entry in enumerate(entries):
        for field, value in entry.items():
            if value is None:
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out[f"{name}[{index}].{field}"] = text
    return out
