"""Draw the Teams app icons with the standard library alone: `python manifest/teams/make_icons.py`.

Teams asks for a 192x192 full-colour icon and a 32x32 outline icon that is white on a
transparent background. Both show a shield with a tick. The PNGs are kept in the repository;
a test redraws them and checks the files still match this script.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCENT = (0x1F, 0x6F, 0x5C)  # the manifest's accentColor
WHITE = (255, 255, 255)
SAMPLES = 4  # per side: each pixel is the average of 4x4 points, for smooth edges

Pixel = tuple[int, int, int, int]
Shape = Callable[[float, float], bool]


def png(width: int, height: int, pixels: list[list[Pixel]]) -> bytes:
    """An 8-bit RGBA PNG of these rows of pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(value for pixel in row for value in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def shield(x: float, y: float) -> bool:
    """Inside the shield: straight sides, then a curve to a point (x, y from 0 to 1, y down)."""
    top, bottom, half = 0.12, 0.9, 0.33
    if not top <= y <= bottom:
        return False
    middle = 0.55
    width = half if y <= middle else half * (1 - ((y - middle) / (bottom - middle)) ** 2) ** 0.5
    return abs(x - 0.5) <= width


def tick(x: float, y: float) -> bool:
    """Inside the tick: two strokes, down-right then up-right."""
    def near(ax: float, ay: float, bx: float, by: float, thickness: float) -> bool:
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        return ((x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2) ** 0.5 <= thickness

    return near(0.36, 0.48, 0.46, 0.6, 0.045) or near(0.46, 0.6, 0.66, 0.36, 0.045)


def coverage(shape: Shape, px: int, py: int, size: int) -> float:
    """How much of pixel (px, py) the shape covers, from 0 to 1."""
    inside = sum(
        shape((px + (i + 0.5) / SAMPLES) / size, (py + (j + 0.5) / SAMPLES) / size)
        for i in range(SAMPLES) for j in range(SAMPLES)
    )
    return inside / (SAMPLES * SAMPLES)


def colour_icon(size: int = 192) -> bytes:
    """The full-colour icon: a white shield with an accent-coloured tick, on the accent colour."""
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            white = coverage(lambda x, y: shield(x, y) and not tick(x, y), px, py, size)
            row.append((*(round(a + (w - a) * white) for a, w in zip(ACCENT, WHITE, strict=True)), 255))
        rows.append(row)
    return png(size, size, rows)


def outline_icon(size: int = 32) -> bytes:
    """The outline icon: the shield in white with the tick cut out, on transparency (white pixels only)."""
    rows = [[(*WHITE, round(255 * coverage(lambda x, y: shield(x, y) and not tick(x, y), px, py, size)))
             for px in range(size)] for py in range(size)]
    return png(size, size, rows)


def main() -> None:
    (HERE / "color.png").write_bytes(colour_icon())
    (HERE / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    main()
