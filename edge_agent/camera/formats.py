"""Image and video formats the camera code reads and writes without OpenCV: PNM (P5/P6), NumPy .npy, Y4M
(YUV4MPEG2, the uncompressed video ffmpeg writes with `-f yuv4mpegpipe`), planar YUV 4:2:0 as picamera2's
low-resolution stream gives it, and a small PNG writer for snapshots. Pure apart from the file reads."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from edge_agent import untrusted_files
from edge_agent.camera.frames import FrameError, as_rgb

# No camera we read has more pixels a side; a header claiming more is corrupt or hostile, and believing it would
# allocate gigabytes before the truncation is noticed.
MAX_FRAME_SIDE = 8192
# Nor more pixels than 4K UHD: 24 MiB as RGB. Much past it one frame and its copies outgrow the agent's 128 MiB
# (the unit's MemoryMax), and the OOM killer would end the agent at every start.
MAX_FRAME_PIXELS = 3840 * 2160
CONVERSION_BAND_ROWS = 64  # even, so that each band starts on a chroma row
MAX_HEADER_LINE = 64 * 1024  # a Y4M header or FRAME line (real ones are under 100 bytes); longer is not Y4M
MAX_STACK_BYTES = 64 * 1024 * 1024  # a .npy file is read whole


def check_frame_size(width: int, height: int, path: Path) -> None:
    """FrameError when a header declares more pixels than a frame may have."""
    if width < 1 or height < 1 or max(width, height) > MAX_FRAME_SIDE or width * height > MAX_FRAME_PIXELS:
        raise FrameError(f"{path}: declares {width}x{height} pixels; frames are read up to {MAX_FRAME_SIDE} a "
                         f"side and {MAX_FRAME_PIXELS} in all")


def open_regular(path: Path) -> BinaryIO:
    """The file, open for reading, if it is a regular file: a FIFO would block the camera until someone writes
    to it, and a device such as /dev/zero (a symlink in a replay directory) never ends."""
    try:
        return untrusted_files.open_regular(path)
    except OSError as exc:
        raise FrameError(f"{path}: {exc.strerror or exc}") from None


def read_regular(path: Path, max_bytes: int) -> bytes:
    """At most `max_bytes` of a regular file (see open_regular)."""
    with open_regular(path) as f:
        return f.read(max_bytes)


def _dimension(value: bytes | str, what: str, path: Path) -> int:
    """A width or height from a file header, or FrameError naming it."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    if not text.isascii() or not text.isdigit() or len(text) > 5 or not 1 <= int(text) <= MAX_FRAME_SIDE:
        raise FrameError(f"{path}: {what} {text[:20]!r} is not a size from 1 to {MAX_FRAME_SIDE}")
    return int(text)


def i420_to_rgb(planes: np.ndarray, width: int, height: int, full_range: bool = True) -> np.ndarray:
    """Planar YUV 4:2:0 (a Y plane, then U and V at half resolution, rounded up for an odd size; picamera2's
    YUV420 array of shape (height * 3 / 2, width) is the same bytes) → RGB uint8, BT.601."""
    flat = np.ascontiguousarray(planes).reshape(-1)
    chroma_width, chroma_height = (width + 1) // 2, (height + 1) // 2
    luma_size, chroma_size = width * height, chroma_width * chroma_height
    if flat.size < luma_size + 2 * chroma_size:
        raise FrameError(f"a {width}x{height} YUV 4:2:0 frame needs {luma_size + 2 * chroma_size} bytes, "
                         f"got {flat.size}")
    y = flat[:luma_size].reshape(height, width)
    u = flat[luma_size:luma_size + chroma_size].reshape(chroma_height, chroma_width)
    v = flat[luma_size + chroma_size:luma_size + 2 * chroma_size].reshape(chroma_height, chroma_width)
    rgb = np.empty((height, width, 3), np.uint8)
    # In bands of rows: the float arithmetic holds about 40 bytes a pixel, 860 MB for a whole 4096x4096 frame.
    for top in range(0, height, CONVERSION_BAND_ROWS):
        bottom = min(height, top + CONVERSION_BAND_ROWS)
        rgb[top:bottom] = _i420_band_to_rgb(y[top:bottom], u[top // 2:(bottom + 1) // 2],
                                            v[top // 2:(bottom + 1) // 2], full_range)
    return rgb


def _i420_band_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, full_range: bool) -> np.ndarray:
    rows, width = y.shape
    y = y.astype(np.float32)
    u = u.astype(np.float32).repeat(2, axis=0).repeat(2, axis=1)[:rows, :width] - 128
    v = v.astype(np.float32).repeat(2, axis=0).repeat(2, axis=1)[:rows, :width] - 128
    if not full_range:  # studio swing: Y 16-235, chroma 16-240
        y = (y - 16) * (255 / 219)
        u, v = u * (255 / 224), v * (255 / 224)
    rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], axis=-1)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def rgb_to_i420(frame: np.ndarray) -> bytes:
    """RGB uint8 (even width and height) → planar YUV 4:2:0 bytes, BT.601 full range."""
    rgb = as_rgb(frame).astype(np.float32)
    height, width = rgb.shape[:2]
    if width % 2 or height % 2:
        raise FrameError(f"YUV 4:2:0 needs an even width and height, got {width}x{height}")
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = (b - y) / 1.772 + 128
    v = (r - y) / 1.402 + 128

    def half(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    planes = [y, half(u), half(v)]
    return b"".join(np.clip(p + 0.5, 0, 255).astype(np.uint8).tobytes() for p in planes)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 1) -> None:
    """Frames (RGB, all the same even size) as an uncompressed Y4M video, full-range 4:2:0."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(rgb_to_i420(frame))


def read_y4m(path: Path) -> Iterator[np.ndarray]:
    """The frames of a Y4M file, as RGB. Only 4:2:0 chroma (the common case) is read."""
    with open_regular(path) as f:
        header = f.readline(MAX_HEADER_LINE)
        if not header.startswith(b"YUV4MPEG2 "):
            raise FrameError(f"{path} is not a Y4M file (no YUV4MPEG2 header)")
        if not header.endswith(b"\n"):
            raise FrameError(f"{path}: Y4M header line longer than {MAX_HEADER_LINE} bytes")
        params = {token[:1]: token[1:] for token in header.decode("ascii", "replace").split()[1:]}
        width, height = _dimension(params.get("W", ""), "width", path), _dimension(params.get("H", ""), "height", path)
        chroma = params.get("C", "420jpeg")
        if not chroma.startswith("420") or width < 2 or height < 2:
            raise FrameError(f"{path}: only 4:2:0 Y4M is read, got C{chroma} {width}x{height}")
        check_frame_size(width, height, path)
        full_range = "XCOLORRANGE=FULL" in header.decode("ascii", "replace")
        frame_bytes = width * height + 2 * ((width + 1) // 2) * ((height + 1) // 2)
        while True:
            marker = f.readline(MAX_HEADER_LINE)
            if not marker:
                return
            if not marker.startswith(b"FRAME"):
                raise FrameError(f"{path}: expected a FRAME marker, got {marker[:20]!r}")
            data = _read_exactly(f, frame_bytes, path)
            yield i420_to_rgb(np.frombuffer(data, dtype=np.uint8), width, height, full_range)


def _read_exactly(f: BinaryIO, size: int, path: Path) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise FrameError(f"{path}: truncated frame ({len(data)} of {size} bytes)")
    return data


def read_pnm(path: Path) -> np.ndarray:
    """A binary PGM (P5) or PPM (P6) image with 8-bit samples, as RGB."""
    data = read_regular(path, MAX_HEADER_LINE + 3 * MAX_FRAME_PIXELS + 1)
    tokens, offset = [], 0
    while len(tokens) < 4:
        while offset < len(data) and data[offset:offset + 1].isspace():
            offset += 1
        if data[offset:offset + 1] == b"#":
            offset = data.find(b"\n", offset) + 1
            if offset == 0:
                raise FrameError(f"{path}: truncated PNM header")
            continue
        end = offset
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[offset:end])
        offset = end
        if offset >= len(data):
            raise FrameError(f"{path}: truncated PNM header")
    magic, maxval = tokens[0], tokens[3]
    if magic not in (b"P5", b"P6") or maxval != b"255":
        raise FrameError(f"{path}: only 8-bit binary PGM/PPM (P5/P6) is read, got {magic[:8]!r} maxval {maxval[:8]!r}")
    width, height = _dimension(tokens[1], "width", path), _dimension(tokens[2], "height", path)
    check_frame_size(width, height, path)
    channels = 3 if magic == b"P6" else 1
    if len(data) < offset + 1 + width * height * channels:
        raise FrameError(f"{path}: truncated PNM image ({len(data) - offset - 1} of {width * height * channels} bytes)")
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height * channels, offset=offset + 1)
    return as_rgb(pixels.reshape(height, width, channels) if channels == 3 else pixels.reshape(height, width))


def write_ppm(path: Path, frame: np.ndarray) -> None:
    rgb = as_rgb(frame)
    path.write_bytes(f"P6\n{rgb.shape[1]} {rgb.shape[0]}\n255\n".encode() + np.ascontiguousarray(rgb).tobytes())


def read_npy_frames(path: Path) -> list[np.ndarray]:
    """One frame (height, width, 3) or a stack (count, height, width, 3) saved with numpy.save."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_STACK_BYTES:
            raise FrameError(f"{path}: {size} bytes; a .npy stack is read up to {MAX_STACK_BYTES}")
        try:
            array = np.load(f, allow_pickle=False)
        except (OSError, ValueError, MemoryError) as exc:  # MemoryError: a header declaring a vast shape
            raise FrameError(f"{path}: not a NumPy array file ({str(exc)[:200]})") from None
    if array.ndim not in (2, 3, 4):
        raise FrameError(f"{path}: an array of shape {array.shape} is neither a frame nor a stack of frames")
    frames = [array] if array.ndim in (2, 3) else list(array)
    return [as_rgb(frame) for frame in frames]


def encode_png(frame: np.ndarray) -> bytes:
    """RGB uint8 → PNG bytes (no filtering; snapshots are small)."""
    rgb = as_rgb(frame)
    height, width = rgb.shape[:2]
    raw = b"".join(b"\x00" + np.ascontiguousarray(rgb[row]).tobytes() for row in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
