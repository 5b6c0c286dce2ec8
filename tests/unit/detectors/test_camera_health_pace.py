"""Camera health is judged at its own pace: frames in between give no sample, so the issue tracker neither opens
nor resolves on them, and the checks' CPU cost is bounded whatever the frame rate."""

from __future__ import annotations

import numpy as np

from edge_agent.detectors.camera_health import HEALTH_STREAM, CameraHealthDetector


def test_frames_between_judgements_give_no_sample_and_the_pace_holds_at_any_frame_rate():
    frame = np.random.default_rng(3).integers(0, 255, (144, 192, 3), dtype=np.uint8)
    checks = CameraHealthDetector(interval_s=10.0)
    judged = [t for t in np.arange(0.0, 60.0, 0.5) if checks.analyse(frame, "cam", float(t), float(t)) is not None]
    assert judged == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    every_frame = CameraHealthDetector()
    assert all(every_frame.analyse(frame, "cam", 0.0, 0.0).stream == HEALTH_STREAM for _ in range(3))
