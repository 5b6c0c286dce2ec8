"""The Raspberry Pi camera through picamera2 (libcamera), imported only when this source opens.

Detection reads the low-resolution stream, which the ISP scales in hardware; on most Pi models that stream
must be YUV 4:2:0, so it is converted here. The main stream (RGB888, which picamera2 lays out as B, G, R)
is configured at the capture resolution for anything that needs more detail.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_agent.camera import CameraUnavailable
from edge_agent.camera.formats import i420_to_rgb


class Picamera2Source:
    name = "picamera2"

    def __init__(self, size: tuple[int, int], lores_size: tuple[int, int], camera_num: int = 0):
        self.size = size
        self.camera_num = camera_num
        self._camera: Any = None
        self.ask_detection_size(lores_size)

    def ask_detection_size(self, size: tuple[int, int]) -> None:
        """The low-resolution stream's size, asked for when the camera opens: rounded up to multiples of 16
        (which keep the chroma rows of the YUV420 array whole, two per array row) so that it still covers the
        size asked for, and no larger than the main stream (picamera2 refuses a larger lores)."""
        self.lores_size = tuple(max(16, min(-(-side // 16) * 16, main - main % 16))  # type: ignore[assignment]
                                for side, main in zip(size, self.size, strict=True))

    def _open(self) -> Any:
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraUnavailable(f"picamera2 cannot be imported ({exc}); on Raspberry Pi OS install "
                                    "python3-picamera2 and create the venv with --system-site-packages") from None
        try:
            camera = Picamera2(self.camera_num)
            config = camera.create_preview_configuration(
                main={"size": self.size, "format": "RGB888"},
                lores={"size": self.lores_size, "format": "YUV420"},
            )
            camera.configure(config)
            camera.start()
        except (RuntimeError, IndexError, OSError) as exc:  # no camera attached, or another process holds it
            raise CameraUnavailable(f"the Pi camera {self.camera_num} cannot be started: {exc}") from None
        # libcamera may align the size asked for; the array is laid out at the size it configured (a picamera2
        # without stream_configuration leaves the size asked for in use).
        if hasattr(camera, "stream_configuration"):
            self.lores_size = tuple(camera.stream_configuration("lores")["size"])  # type: ignore[assignment]
        return camera

    def read(self) -> np.ndarray:
        if self._camera is None:
            self._camera = self._open()
        try:
            planes = self._camera.capture_array("lores")
        except (RuntimeError, OSError) as exc:
            self.close()
            raise CameraUnavailable(f"the Pi camera gave no frame: {exc}") from None
        return yuv420_array_to_rgb(planes, *self.lores_size)

    def read_main(self) -> np.ndarray:
        """A full-resolution frame from the main stream, as RGB."""
        if self._camera is None:
            self._camera = self._open()
        return np.ascontiguousarray(self._camera.capture_array("main")[..., 2::-1])

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.stop()
            camera.close()


def yuv420_array_to_rgb(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """picamera2's YUV420 array (height * 3 / 2 rows of `stride` bytes: Y rows, then two U rows per array row,
    then V the same way) → RGB. The stride may exceed the width when the ISP pads rows for alignment."""
    stride = array.shape[1]
    y = array[:height, :width]
    quarter = height // 4
    u = array[height:height + quarter].reshape(height // 2, stride // 2)[:, :width // 2]
    v = array[height + quarter:height + 2 * quarter].reshape(height // 2, stride // 2)[:, :width // 2]
    return i420_to_rgb(np.concatenate([y.ravel(), u.ravel(), v.ravel()]), width, height)
