"""The width and height a PNG, JPEG or BMP file declares, read from its header before anything decodes it. Pure.

A decoder believes the header: a 1 MiB PNG of zeros that declares 20000x20000 pixels makes OpenCV allocate and
fill 1.2 GB. Knowing the size first lets the reader refuse such a file with a clear error. OpenCV picks the
decoder by content, not by the file's suffix, so the content decides here too, and other formats are refused.
"""

from __future__ import annotations

import struct
from pathlib import Path

from edge_agent.camera.frames import FrameError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (they carry the size); C4, C8 and CC share the range but are other segments.
JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}  # restart markers and TEM: no length field


def encoded_image_size(data: bytes, path: Path) -> tuple[int, int]:
    """(width, height) from the header of a PNG, JPEG or BMP image, or FrameError naming what is wrong."""
    if data.startswith(PNG_SIGNATURE):
        return _png_size(data, path)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data, path)
    if data.startswith(b"BM"):
        return _bmp_size(data, path)
    raise FrameError(f"{path}: not a PNG, JPEG or BMP image (starts with {data[:8]!r})")


def _png_size(data: bytes, path: Path) -> tuple[int, int]:
    # The signature, then the IHDR chunk: length, type, width, height (big-endian).
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise FrameError(f"{path}: PNG without its IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes, path: Path) -> tuple[int, int]:
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise FrameError(f"{path}: JPEG segment marker expected at byte {offset}")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker in JPEG_STANDALONE:
            offset += 2
            continue
        if marker == 0xDA:  # start of scan: the image data begins and no frame header came first
            break
        (length,) = struct.unpack(">H", data[offset + 2:offset + 4])
        if marker in JPEG_SOF:
            if length < 7 or offset + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[offset + 5:offset + 9])
            return width, height
        if length < 2:
            raise FrameError(f"{path}: JPEG segment of length {length} at byte {offset}")
        offset += 2 + length
    raise FrameError(f"{path}: JPEG without a frame header (no size)")


def _bmp_size(data: bytes, path: Path) -> tuple[int, int]:
    if len(data) < 26:
        raise FrameError(f"{path}: BMP header truncated")
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # the old OS/2 header: 16-bit sizes
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)  # a negative height is a top-down bitmap
