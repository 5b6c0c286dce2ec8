"""Replayed frames: a directory of images, a .npy frame stack, a Y4M video, or (through OpenCV) a common
video file. For tests, demos and for re-checking a recording from a customer's site."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge_agent.camera import CameraUnavailable
from edge_agent.camera.formats import check_frame_size, read_npy_frames, read_pnm, read_regular, read_y4m
from edge_agent.camera.frames import FrameError, as_rgb
from edge_agent.camera.image_header import encoded_image_size
from edge_agent.camera.opencv import OpenCVSource

NATIVE_IMAGES = {".ppm": read_pnm, ".pgm": read_pnm, ".pnm": read_pnm}
OPENCV_IMAGES = {".png", ".jpg", ".jpeg", ".bmp"}
OPENCV_VIDEOS = {".avi", ".mp4", ".mkv", ".mov", ".mjpeg"}
MAX_REPLAY_ENTRIES = 10_000
MAX_ENCODED_BYTES = 32 * 1024 * 1024  # a compressed image; the largest frame we read is 48 MiB raw


class ReplaySource:
    def __init__(self, path: Path, loop: bool = True):
        self.path = path
        self.loop = loop
        self.name = f"replay:{path}"
        self._frames: Iterator[np.ndarray] | None = None
        self._video: OpenCVSource | None = None

    def read(self) -> np.ndarray:
        if self.path.suffix.lower() in OPENCV_VIDEOS:
            if self._video is None:
                self._video = OpenCVSource(str(self.path), loop=self.loop)
            return self._video.read()
        if self._frames is None:
            self._frames = self._iterate()
        try:
            return next(self._frames)
        except StopIteration:
            self._frames = None
            raise CameraUnavailable(f"{self.path}: end of the replay") from None
        except (FrameError, OSError) as exc:
            self._frames = None
            raise CameraUnavailable(str(exc)) from None

    def _iterate(self) -> Iterator[np.ndarray]:
        while True:
            produced = False
            for frame in self._frames_once():
                produced = True
                yield frame
            if not (self.loop and produced):
                return

    def _frames_once(self) -> Iterator[np.ndarray]:
        path = self.path
        if not path.exists():
            raise FrameError(f"nothing to replay at {path}")
        if path.is_dir():
            files = sorted(p for p in _entries(path) if p.suffix.lower() in {*NATIVE_IMAGES, *OPENCV_IMAGES, ".npy"})
            if not files:
                raise FrameError(f"{path} holds no .ppm, .pgm, .npy, .png or .jpg images")
            for file in files:
                yield from _image_frames(file)
        elif path.suffix.lower() == ".y4m":
            yield from read_y4m(path)
        else:
            yield from _image_frames(path)

    def close(self) -> None:
        self._frames = None
        if self._video is not None:
            self._video.close()
            self._video = None


def _entries(directory: Path) -> list[Path]:
    """The directory's entries, at most MAX_REPLAY_ENTRIES: the listing is held and sorted at every pass, and
    200 000 files cost 40 MiB and 2.5 s of CPU each time."""
    entries = []
    with os.scandir(directory) as scan:
        for entry in scan:
            if len(entries) == MAX_REPLAY_ENTRIES:
                raise FrameError(f"{directory} holds more than {MAX_REPLAY_ENTRIES} entries; replay that many "
                                 "frames from a video or a .y4m file")
            entries.append(Path(entry.path))
    return entries


def _image_frames(path: Path) -> list[np.ndarray]:
    suffix = path.suffix.lower()
    if suffix in NATIVE_IMAGES:
        return [NATIVE_IMAGES[suffix](path)]
    if suffix == ".npy":
        return read_npy_frames(path)
    if suffix in OPENCV_IMAGES:
        try:
            import cv2
        except ImportError:
            raise FrameError(f"{path}: reading {suffix} needs OpenCV (pip install opencv-python-headless); "
                             ".ppm and .npy need nothing") from None
        # The size its header declares is checked before OpenCV decodes the very same bytes (decoders believe it).
        data = read_regular(path, MAX_ENCODED_BYTES + 1)
        if len(data) > MAX_ENCODED_BYTES:
            raise FrameError(f"{path}: larger than {MAX_ENCODED_BYTES} bytes; no frame we read is that large")
        check_frame_size(*encoded_image_size(data, path), path)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise FrameError(f"{path}: OpenCV cannot decode it")
        return [as_rgb(np.ascontiguousarray(image[..., ::-1]))]
    raise FrameError(f"{path}: unknown image type {suffix}")
