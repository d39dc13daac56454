"""The DDL dialect: which optional column features the connected engine understands.

All queries are written in the subset of ClickHouse SQL that runs on 18.16 and on today's
releases. Only table definitions differ: a modern engine gets LowCardinality strings and column
codecs, which shrink the raw table several times over; 18.16 gets plain columns (its
LowCardinality needs an experimental setting that newer engines reject as unknown, and its
parser has no ``CODEC`` clause). The choice is made once, from ``SELECT version()``.

    >>> d = Dialect.for_version((18, 16, 1))
    >>> d.low_cardinality("String"), d.codec("DoubleDelta", "ZSTD")
    ('String', '')
    >>> d = Dialect.for_version((26, 9, 2, 1))
    >>> d.low_cardinality("String"), d.codec("DoubleDelta", "ZSTD")
    ('LowCardinality(String)', ' CODEC(DoubleDelta, ZSTD)')
"""

from __future__ import annotations

from dataclasses import dataclass

#: First release with non-experimental LowCardinality and the codecs we use (DoubleDelta, Gorilla).
MODERN = (20, 3)


@dataclass(frozen=True, slots=True)
class Dialect:
    """DDL extras for one engine version.

    Attributes:
        version: the engine's version, e.g. ``(18, 16, 1)``.
        modern: True from :data:`MODERN` on: LowCardinality and codecs are used.
    """

    version: tuple[int, ...]
    modern: bool

    @classmethod
    def for_version(cls, version: tuple[int, ...]) -> Dialect:
        """The dialect of an engine reporting ``version``."""
        return cls(version=version, modern=version[:2] >= MODERN)

    def low_cardinality(self, type_: str) -> str:
        """``type_`` wrapped in ``LowCardinality`` where supported (for repetitive strings)."""
        return f"LowCardinality({type_})" if self.modern else type_

    def codec(self, *codecs: str) -> str:
        """A column ``CODEC(...)`` clause (with a leading space), or nothing on old engines."""
        return f" CODEC({', '.join(codecs)})" if self.modern and codecs else ""


def parse_version(text: str) -> tuple[int, ...]:
    """``'18.16.1'`` -> ``(18, 16, 1)``; non-numeric parts (``-testing``) are dropped."""
    out: list[int] = []
    for part in text.strip().split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)
