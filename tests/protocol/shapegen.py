r"""Seeded, valid values for any botocore shape: the inputs and outputs of the round-trip tests.

:class:`ShapeValues` fills every member of a structure (one member of a union), one to three
items per list or map (within the model's min/max), strings within their length limits (or a
value of their enum) drawn from an alphabet that exercises escaping (``&=+%<>"'``, spaces, tabs,
newlines, ``\\r``, accents, CJK), integers within their range, doubles from whole numbers to
tiny and huge ones, timestamps with and without microseconds, and blobs. The same seed gives
the same values.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import Shape

ALPHABET = string.ascii_letters + string.digits + " &=+%<>\"'/.:-_\t\n\r" + "éü日本"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


class ShapeValues:
    """Generates a valid value for a shape (see the module docstring)."""

    def __init__(self, seed: int | str, max_depth: int = 20) -> None:
        self.rng = random.Random(seed)
        self.max_depth = max_depth

    def value(self, shape: Shape, depth: int = 0) -> Any:
        """A valid value for ``shape``."""
        return getattr(self, f"_{shape.type_name}")(shape, depth)

    def _structure(self, shape: Any, depth: int) -> dict[str, Any]:
        names = list(shape.members)
        if shape.is_tagged_union:
            names = [self.rng.choice(names)]
        elif depth >= self.max_depth:
            names = list(shape.required_members)
        return {name: self.value(shape.members[name], depth + 1) for name in names}

    def _count(self, shape: Shape) -> int:
        low, high = int(shape.metadata.get("min", 0)), int(shape.metadata.get("max", 3))
        return max(low, min(high, self.rng.randint(1, 3)))

    def _list(self, shape: Any, depth: int) -> list[Any]:
        return [self.value(shape.member, depth + 1) for _ in range(self._count(shape))]

    def _map(self, shape: Any, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        wanted = self._count(shape)
        for _ in range(50 * wanted):
            if len(out) >= wanted:
                break
            out[self.value(shape.key, depth + 1)] = self.value(shape.value, depth + 1)
        return out

    def _string(self, shape: Shape, depth: int) -> str:
        if shape.metadata.get("enum"):
            return str(self.rng.choice(shape.metadata["enum"]))
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", low + 12), low + 12)
        return "".join(self.rng.choice(ALPHABET) for _ in range(self.rng.randint(max(low, 1), max(high, 1))))

    def _integer(self, shape: Shape, depth: int) -> int:
        type_low, type_high = INT_RANGE[shape.type_name]
        low = shape.metadata.get("min", -1000)
        high = shape.metadata.get("max", 10**6 if shape.type_name == "integer" else 10**15)
        return self.rng.randint(max(low, type_low), min(high, type_high))

    _long = _integer

    def _double(self, shape: Shape, depth: int) -> float:
        value = self.rng.choice([
            float(self.rng.randint(-100, 100)), self.rng.uniform(-1e6, 1e6), self.rng.random() * 1e-7,
            self.rng.random() * 1e300, 0.1, 1 / 3, 0.0])
        low = shape.metadata.get("min")
        return abs(value) if low is not None and low >= 0 else value

    def _boolean(self, shape: Shape, depth: int) -> bool:
        return self.rng.random() < 0.5

    def _timestamp(self, shape: Shape, depth: int) -> datetime:
        micro = self.rng.choice([0, self.rng.randint(1, 999_999)])
        return START + timedelta(seconds=self.rng.randint(-10**8, 10**8), microseconds=micro)

    def _blob(self, shape: Shape, depth: int) -> bytes:
        low = shape.metadata.get("min", 0)
        return bytes(self.rng.getrandbits(8) for _ in range(max(low, self.rng.randint(0, 24))))
