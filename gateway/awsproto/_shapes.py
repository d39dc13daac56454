"""What both walks (:mod:`._inbound`, :mod:`._outbound`) need from botocore shapes.

- the per-shape handler cache with placeholders for recursive shapes (:func:`compiled`);
- the query protocol's names for members, list items and map entries, which are also how error
  paths are spelled in every protocol (CloudWatch is query-compatible).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape

Handler = Callable[[Any], Any]
CONTAINERS = frozenset({"structure", "list", "map"})


def compiled(cache: dict[tuple[str, str], Handler], service_name: str, shape: Shape,
             build: Callable[[], Handler]) -> Handler:
    """The cached handler for ``shape``, built by ``build()`` on first use.

    While a container shape is being built, the cache holds a forwarder to the finished handler,
    so a shape that (indirectly) contains itself compiles instead of recursing forever.
    """
    key = (service_name, shape.name)
    found = cache.get(key)
    if found is not None:
        return found
    if shape.type_name in CONTAINERS:
        cell: list[Handler] = []
        cache[key] = lambda value: cell[0](value)
        built = build()
        cell.append(built)
    else:
        built = build()
    cache[key] = built
    return built


def query_name(member_name: str, member: Shape) -> str:
    """A structure member's query-protocol name (its locationName; a flattened list's item name)."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")
        if item_name:
            return str(item_name)
    return str(member.serialization.get("name", member_name))


def item_name(shape: ListShape) -> str | None:
    """The element name of a list's items (``member`` by default); None when flattened."""
    if shape.serialization.get("flattened"):
        return None
    return str(shape.member.serialization.get("name", "member"))


def entry_names(shape: MapShape) -> tuple[str | None, str, str]:
    """A map's query names: the entry element (``entry``; None if flattened), key and value names."""
    entry = None if shape.serialization.get("flattened") else "entry"
    return (entry, str(shape.key.serialization.get("name", "key")),
            str(shape.value.serialization.get("name", "value")))
