#!/usr/bin/env python3
"""Draw the slackdesk app icons for the Zendesk installer app.

Writes two PNGs next to this folder, in ../assets:

* logo.png        320x320, full bleed (Zendesk rounds the corners of the large
                  icon itself, so the square must not be rounded here).
* logo-small.png  128x128, RGBA with a transparent background around a
                  rounded tile (Zendesk asks for PNG-24 with transparency).

The mark is a white speech bubble with three dots on the brand colour: a
conversation that becomes a ticket. Only the standard library is used (zlib
and struct write the PNG), so the icons can be rebuilt anywhere with
`python3 zendesk-app/tools/make_logos.py`. The output is deterministic.
"""

import os
import struct
import zlib

BRAND = (67, 56, 202)  # indigo
WHITE = (255, 255, 255)
SUPERSAMPLE = 4  # samples per axis per pixel, for smooth edges

# Shapes in unit coordinates: (0, 0) is the top-left corner, (1, 1) the bottom-right.
BUBBLE_BODY = (0.20, 0.24, 0.80, 0.66, 0.13)  # x0, y0, x1, y1, corner radius
BUBBLE_TAIL = ((0.30, 0.60), (0.47, 0.64), (0.25, 0.80))
DOTS = ((0.355, 0.45), (0.50, 0.45), (0.645, 0.45))
DOT_RADIUS = 0.047
TILE_RADIUS = 0.22  # small icon only


def in_rounded_rect(x, y, rect):
    """True when (x, y) lies in the rounded rectangle (x0, y0, x1, y1, r)."""
    x0, y0, x1, y1, r = rect
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def in_triangle(x, y, tri):
    """True when (x, y) lies in the triangle, whatever its winding."""
    (ax, ay), (bx, by), (cx, cy) = tri
    d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by)
    d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy)
    d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay)
    has_neg = d1 < 0 or d2 < 0 or d3 < 0
    has_pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (has_neg and has_pos)


def in_dot(x, y):
    return any((x - dx) ** 2 + (y - dy) ** 2 <= DOT_RADIUS**2 for dx, dy in DOTS)


def in_bubble(x, y):
    return in_rounded_rect(x, y, BUBBLE_BODY) or in_triangle(x, y, BUBBLE_TAIL)


def sample_colour(x, y, tiled):
    """Colour (r, g, b, a) of one sample point; a is 0 or 255."""
    if tiled and not in_rounded_rect(x, y, (0.0, 0.0, 1.0, 1.0, TILE_RADIUS)):
        return (0, 0, 0, 0)
    if in_bubble(x, y) and not in_dot(x, y):
        return WHITE + (255,)
    return BRAND + (255,)


def pixel(px, py, size, tiled):
    """Average the supersamples of one pixel, premultiplied, back to straight RGBA."""
    n = SUPERSAMPLE
    acc = [0, 0, 0, 0]
    for sy in range(n):
        for sx in range(n):
            x = (px + (sx + 0.5) / n) / size
            y = (py + (sy + 0.5) / n) / size
            r, g, b, a = sample_colour(x, y, tiled)
            acc[0] += r * a
            acc[1] += g * a
            acc[2] += b * a
            acc[3] += a
    if acc[3] == 0:
        return (0, 0, 0, 0)
    alpha = acc[3] / (n * n)
    return (
        round(acc[0] / acc[3]),
        round(acc[1] / acc[3]),
        round(acc[2] / acc[3]),
        round(alpha),
    )


def render(size, tiled):
    """Rows of RGBA tuples for a square icon of the given size."""
    return [[pixel(px, py, size, tiled) for px in range(size)] for py in range(size)]


def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(rows, with_alpha):
    """Encode rows of RGBA tuples as an 8-bit RGB (type 2) or RGBA (type 6) PNG."""
    height = len(rows)
    width = len(rows[0])
    colour_type = 6 if with_alpha else 2
    raw = bytearray()
    for row in rows:
        raw.append(0)  # filter type: none
        for r, g, b, a in row:
            raw.extend((r, g, b, a) if with_alpha else (r, g, b))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + png_chunk(b"IEND", b"")
    )


def write(path, data):
    with open(path, "wb") as out:
        out.write(data)
    print(f"wrote {path} ({len(data)} bytes)")


def main():
    assets = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "assets")
    assets = os.path.normpath(assets)
    os.makedirs(assets, exist_ok=True)
    write(os.path.join(assets, "logo.png"), encode_png(render(320, tiled=False), with_alpha=False))
    write(os.path.join(assets, "logo-small.png"), encode_png(render(128, tiled=True), with_alpha=True))


if __name__ == "__main__":
    main()
