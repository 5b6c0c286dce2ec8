"""A stand-in for the picamera2 module, honouring the parts of its API the agent uses: Picamera2(camera_num),
create_preview_configuration(main=..., lores=...), configure, start, capture_array("main" | "lores"), stop,
close. The main stream is RGB888, which picamera2 lays out as B, G, R; lores is YUV420 with rows padded to a
64-byte stride, as the ISP does."""

from __future__ import annotations

import types

import numpy as np

from edge_agent.camera.formats import rgb_to_i420
from edge_agent.camera.frames import resize

STRIDE_ALIGN = 64


def yuv420_array(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    stride = -(-width // STRIDE_ALIGN) * STRIDE_ALIGN
    flat = np.frombuffer(rgb_to_i420(rgb), np.uint8)
    y = flat[:width * height].reshape(height, width)
    chroma = (height // 2, width // 2)
    u = flat[width * height:width * height + chroma[0] * chroma[1]].reshape(chroma)
    v = flat[width * height + chroma[0] * chroma[1]:].reshape(chroma)

    def padded(plane: np.ndarray, row: int) -> np.ndarray:
        out = np.zeros((plane.shape[0], row), np.uint8)
        out[:, :plane.shape[1]] = plane
        return out

    return np.concatenate([padded(y, stride), padded(u, stride // 2).reshape(-1, stride),
                           padded(v, stride // 2).reshape(-1, stride)])


def make_module(scene: np.ndarray, cameras: int = 1, align: int = 1) -> types.ModuleType:
    """A `picamera2` module whose camera sees `scene` (RGB); with cameras=0, opening fails as on a Pi without one;
    `align` rounds configured widths up, as libcamera may."""
    module = types.ModuleType("picamera2")
    module.instances = []

    class Picamera2:
        def __init__(self, camera_num: int = 0):
            if camera_num >= cameras:
                raise IndexError("list index out of range")
            self.camera_num = camera_num
            self.config = None
            self.started = self.closed = False
            module.instances.append(self)

        def create_preview_configuration(self, main=None, lores=None, **kwargs):
            return {"main": dict(main or {}), "lores": dict(lores) if lores else None, **kwargs}

        create_still_configuration = create_preview_configuration

        def configure(self, config):
            # picamera2's own checks: lores no larger than main, and YUV on the Pi 4 and earlier (VC4).
            lores = config.get("lores")
            if lores is not None:
                if any(side > main for side, main in zip(lores["size"], config["main"]["size"], strict=True)):
                    raise RuntimeError("lores stream dimensions may not exceed main stream")
                if not lores["format"].startswith("YUV"):
                    raise RuntimeError("lores stream must be YUV")
            self.config = {name: dict(stream) if isinstance(stream, dict) else stream
                           for name, stream in config.items()}
            for stream in (self.config["main"], self.config["lores"]):
                if stream is not None:  # libcamera aligns widths (here to 32 pixels, as the ISP may)
                    stream["size"] = (-(-stream["size"][0] // align) * align, stream["size"][1])

        def stream_configuration(self, name="main"):
            return self.config[name]

        def start(self):
            if self.config is None:
                raise RuntimeError("Camera has not been configured")
            self.started = True

        def capture_array(self, name="main"):
            if not self.started:
                raise RuntimeError("Camera is not running")
            stream = self.config[name]
            width, height = stream["size"]
            rgb = resize(scene, width, height)
            if stream["format"] == "RGB888":
                return np.ascontiguousarray(rgb[..., ::-1])
            if stream["format"] == "YUV420":
                return yuv420_array(rgb)
            raise RuntimeError(f"format {stream['format']} not faked")

        def stop(self):
            self.started = False

        def close(self):
            self.closed = True

    module.Picamera2 = Picamera2
    return module
