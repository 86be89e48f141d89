"""Images that declare far more pixels than their size suggests (decompression bombs), built
without ever holding their pixels: for the upload tests and bench/image_budget.py."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of width x height pixels, all black: a few hundred KiB at
    most, whatever it declares (8000 x 8000 is about 8 KiB, 30000 x 30000 about 110 KiB)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit grey
    row = b"\x00" * (1 + (width + 7) // 8)  # filter type 0, then the packed pixels
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims width x height (each at most 65535):
    what a reader learns from the header alone."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 90, 90)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def photo(width: int, height: int) -> bytes:
    """A real colour JPEG of width x height (its pixels are held once while it is built)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient)
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
