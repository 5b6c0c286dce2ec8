"""The size a PNG, JPEG or BMP declares is read from its header before any decoder believes it."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.camera.frames import FrameError
from edge_agent.camera.image_header import encoded_image_size

HERE = Path("frame")


def encoded(suffix: str, width: int = 40, height: int = 24) -> bytes:
    ok, data = cv2.imencode(suffix, np.zeros((height, width, 3), np.uint8))
    assert ok
    return data.tobytes()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares this size, with one compressed row of data: what a bomb's first bytes are."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * (3 * width + 1)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp"])
def test_the_declared_size_of_each_format_opencv_writes_is_read(suffix):
    assert encoded_image_size(encoded(suffix), HERE) == (40, 24)


def test_a_jpeg_with_an_exif_segment_before_its_frame_header_is_read():
    jpeg = encoded(".jpg")
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 1000) + b"Exif\0\0" + b"\0" * 994
    assert encoded_image_size(jpeg[:2] + exif + jpeg[2:], HERE) == (40, 24)


def test_a_png_bomb_declares_its_size_in_its_first_bytes():
    assert encoded_image_size(png_declaring(20000, 20000), HERE) == (20000, 20000)


@pytest.mark.parametrize("data, problem", [
    (b"\x89", "not a PNG, JPEG or BMP"),
    (b"", "not a PNG, JPEG or BMP"),
    (b"GIF89a" + b"\0" * 20, "not a PNG, JPEG or BMP"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", "without its IHDR"),
    (b"\xff\xd8\xff\xe0\x00\x00", "JPEG segment of length 0"),
    (b"\xff\xd8\xff\xda\x00\x08" + b"\0" * 20, "JPEG without a frame header"),
    (b"\xff\xd8" + b"\xff\xe0\x00\x10" + b"\0" * 14, "JPEG without a frame header"),
    (b"\xff\xd8\x00\x00\x00\x00", "segment marker expected"),
    (b"BM\0\0", "BMP header truncated"),
])
def test_a_truncated_or_foreign_header_is_a_frame_error_naming_it(data, problem):
    with pytest.raises(FrameError, match=problem):
        encoded_image_size(data, HERE)
