"""Reading the PNGs GetMetricWidgetImage returns: size, and how many pixels are near a colour."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Picture:
    """A decoded PNG as an ``height x width x 3`` array of RGB bytes."""

    width: int
    height: int
    rgb: np.ndarray

    def count(self, color: str, tolerance: int = 24, box: tuple[int, int, int, int] | None = None) -> int:
        """Pixels within ``tolerance`` (per channel) of ``#rrggbb``, in ``box`` (x0, y0, x1, y1) if given."""
        want = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        x0, y0, x1, y1 = box or (0, 0, self.width, self.height)
        area = self.rgb[y0:y1, x0:x1].astype(np.int16)
        return int(np.all(np.abs(area - want) <= tolerance, axis=2).sum())


def decode(png: bytes) -> Picture:
    """Decode ``png`` (it must be one: the signature is checked first)."""
    assert png[:8] == PNG_SIGNATURE, png[:16]
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    rgb = np.asarray(image.convert("RGB"))
    return Picture(image.width, image.height, rgb)
