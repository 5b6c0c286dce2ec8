"""A V4L2 camera (USB webcam, /dev/videoN) or a video file through OpenCV, imported only when this source
opens. OpenCV is optional: without it this source reports the camera unavailable and says what to install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.camera import CameraUnavailable
from edge_agent.camera.formats import check_frame_size
from edge_agent.camera.frames import FrameError


class OpenCVSource:
    def __init__(self, device: str, size: tuple[int, int] | None = None, loop: bool = False):
        """`device`: a V4L2 index ("0"), a device path ("/dev/video0") or a video file; `loop` rewinds a file."""
        self.device = device
        self.size = size
        self.loop = loop
        self.name = f"v4l2:{device}" if _is_device(device) else f"video:{device}"
        self._capture: Any = None
        self._cv2: Any = None

    def _open(self) -> Any:
        try:
            import cv2
        except ImportError:
            raise CameraUnavailable("OpenCV is not installed (pip install opencv-python-headless, or the "
                                    "[camera] extra); it reads V4L2 cameras and video files") from None
        self._cv2 = cv2
        if not _is_device(self.device) and not Path(self.device).is_file():
            raise CameraUnavailable(f"no video file at {self.device}")
        target: int | str = int(self.device) if self.device.isdigit() else self.device
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"OpenCV cannot open {self.device}")
        if self.size is not None and _is_device(self.device):
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        # The size the stream declares, known at open and before any frame is decoded: a 2 MiB MJPEG file of one
        # 12000x12000 frame took 1.5 GB to read. A device may say 0 until it streams.
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width and height:
            try:
                check_frame_size(width, height, Path(self.device))
            except FrameError as exc:
                capture.release()
                raise CameraUnavailable(str(exc)) from None
        return capture

    def read(self) -> np.ndarray:
        if self._capture is None:
            self._capture = self._open()
        ok, frame = self._capture.read()
        if not ok and self.loop and not _is_device(self.device):
            self._capture.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        if not ok or frame is None:
            self.close()
            raise CameraUnavailable(f"{self.device} gave no frame (unplugged, busy, or the end of the video)")
        return np.ascontiguousarray(frame[..., ::-1])  # OpenCV orders channels B, G, R

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


def _is_device(device: str) -> bool:
    return device.isdigit() or device.startswith("/dev/")
