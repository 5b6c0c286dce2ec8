"""Camera sources behind one interface: picamera2, an OpenCV/V4L2 device, replayed images or video, and the
simulated premises' rendered scene. A source gives RGB frames; a missing camera raises CameraUnavailable,
which the agent reports as a finding. Frames stay on the device: only what the models see in them is reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # numpy only where frames are really handled: a gateway without a camera never loads it
    import numpy as np


class CameraUnavailable(Exception):
    """The camera cannot be opened or gives no frame (absent, busy, unplugged, end of a replay)."""


class FrameSource(Protocol):
    name: str  # what the technician sees: "picamera2", "v4l2:/dev/video0", "replay:/srv/frames", "synthetic"

    def read(self) -> np.ndarray:
        """The next frame, RGB uint8 (height, width, 3); opens the camera on first use.
        Raises CameraUnavailable."""
        ...

    def close(self) -> None: ...
