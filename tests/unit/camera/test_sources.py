"""Every camera source gives RGB frames through one interface, and a missing camera is CameraUnavailable."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edge_agent.camera import CameraUnavailable
from edge_agent.camera.factory import source_from_config, source_from_spec
from edge_agent.camera.formats import write_ppm, write_y4m
from edge_agent.camera.opencv import OpenCVSource
from edge_agent.camera.picamera import Picamera2Source
from edge_agent.camera.replay import ReplaySource
from edge_agent.camera.synthetic import StaticScene, SyntheticSource
from edge_agent.config import CameraSection
from edge_agent.sim.camera_scene import SceneState

from .fake_picamera2 import make_module


def quadrants() -> np.ndarray:
    """Red, green, blue and white quarters: channel order mistakes show at once."""
    frame = np.zeros((96, 128, 3), np.uint8)
    frame[:48, :64] = (255, 0, 0)
    frame[:48, 64:] = (0, 255, 0)
    frame[48:, :64] = (0, 0, 255)
    frame[48:, 64:] = (255, 255, 255)
    return frame


def colour_at(frame: np.ndarray, fy: float, fx: float) -> tuple[int, ...]:
    return tuple(int(v) for v in frame[int(fy * frame.shape[0]), int(fx * frame.shape[1])])


def assert_quadrants(frame: np.ndarray, tolerance: int = 30) -> None:
    expected = {(0.25, 0.25): (255, 0, 0), (0.25, 0.75): (0, 255, 0), (0.75, 0.25): (0, 0, 255),
                (0.75, 0.75): (255, 255, 255)}
    for (fy, fx), rgb in expected.items():
        assert np.abs(np.array(colour_at(frame, fy, fx)) - rgb).max() <= tolerance, (fy, fx, colour_at(frame, fy, fx))


@pytest.fixture
def fake_picamera2(monkeypatch):
    module = make_module(quadrants())
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return module


def test_picamera2_detects_on_the_lores_yuv_stream_and_configures_main_as_rgb888(fake_picamera2):
    source = Picamera2Source((640, 480), (192, 144))
    frame = source.read()
    assert frame.shape == (144, 192, 3)
    assert_quadrants(frame)
    [camera] = fake_picamera2.instances
    assert camera.config["main"] == {"size": (640, 480), "format": "RGB888"}
    assert camera.config["lores"] == {"size": (192, 144), "format": "YUV420"}


def test_picamera2_main_stream_is_turned_from_bgr_into_rgb(fake_picamera2):
    frame = Picamera2Source((320, 240), (160, 128)).read_main()
    assert frame.shape == (240, 320, 3)
    assert_quadrants(frame, tolerance=0)


def test_picamera2_close_stops_and_releases_the_camera(fake_picamera2):
    source = Picamera2Source((320, 240), (160, 128))
    source.read()
    source.close()
    [camera] = fake_picamera2.instances
    assert camera.closed and not camera.started


def test_picamera2_without_a_camera_is_unavailable_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", make_module(quadrants(), cameras=0))
    with pytest.raises(CameraUnavailable, match="cannot be started"):
        Picamera2Source((640, 480), (192, 144)).read()


def test_picamera2_not_installed_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)
    with pytest.raises(CameraUnavailable, match="python3-picamera2"):
        Picamera2Source((640, 480), (192, 144)).read()


def test_replay_directory_gives_its_images_in_name_order_and_loops(tmp_path):
    write_ppm(tmp_path / "b.ppm", quadrants())
    np.save(tmp_path / "a.npy", np.zeros((96, 128, 3), np.uint8))
    source = ReplaySource(tmp_path, loop=True)
    means = [source.read().mean() for _ in range(3)]
    assert means[0] == 0 and means[1] > 0 and means[2] == 0


def test_replay_without_loop_ends_as_camera_unavailable(tmp_path):
    write_y4m(tmp_path / "v.y4m", [quadrants()])
    source = ReplaySource(tmp_path / "v.y4m", loop=False)
    assert_quadrants(source.read())
    with pytest.raises(CameraUnavailable, match="end of the replay"):
        source.read()


def test_replay_of_an_empty_directory_says_what_it_reads(tmp_path):
    with pytest.raises(CameraUnavailable, match=r"holds no \.ppm"):
        ReplaySource(tmp_path).read()


def test_replay_of_a_missing_path_is_unavailable(tmp_path):
    with pytest.raises(CameraUnavailable, match="nothing to replay"):
        ReplaySource(tmp_path / "gone").read()


def write_avi(path, frames) -> None:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 2, (128, 96))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()


def test_opencv_reads_a_video_file_as_rgb_and_rewinds_when_looping(tmp_path):
    pytest.importorskip("cv2")
    write_avi(tmp_path / "v.avi", [quadrants(), quadrants()])
    source = OpenCVSource(str(tmp_path / "v.avi"), loop=True)
    for _ in range(3):
        assert_quadrants(source.read())
    assert source.name == f"video:{tmp_path / 'v.avi'}"


def test_replay_hands_common_video_files_to_opencv(tmp_path):
    pytest.importorskip("cv2")
    write_avi(tmp_path / "v.avi", [quadrants()])
    assert_quadrants(ReplaySource(tmp_path / "v.avi").read())


def test_a_v4l2_device_that_is_not_there_is_unavailable():
    pytest.importorskip("cv2")
    with pytest.raises(CameraUnavailable, match="cannot open /dev/video99"):
        OpenCVSource("/dev/video99", (640, 480)).read()


def test_without_opencv_the_v4l2_source_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(CameraUnavailable, match="opencv-python-headless"):
        OpenCVSource("0").read()


def test_synthetic_frames_follow_the_scene_and_an_unplugged_camera_is_unavailable():
    class Scene:
        state: SceneState | None = SceneState()

        def camera_scene(self):
            return self.state

    scene = Scene()
    source = SyntheticSource(scene, (192, 144), seed=3)
    assert source.read().shape == (144, 192, 3)
    scene.state = None
    with pytest.raises(CameraUnavailable, match="unplugged"):
        source.read()


def test_auto_picks_the_simulated_scene_then_a_pi_camera_then_v4l2_else_none(tmp_path, monkeypatch):
    camera = CameraSection()
    assert source_from_config(camera, StaticScene(SceneState()), dev=tmp_path).name == "synthetic"
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert source_from_config(camera, None, dev=tmp_path) is None
    (tmp_path / "video0").touch()
    assert source_from_config(camera, None, dev=tmp_path).name == "v4l2:0"


def test_a_technicians_source_spec_is_parsed_or_refused_with_the_choices(tmp_path):
    camera = CameraSection()
    assert source_from_spec("synthetic:led_red", camera).name == "synthetic"
    assert source_from_spec("v4l2:/dev/video2", camera).name == "v4l2:/dev/video2"
    assert source_from_spec(str(tmp_path), camera).name == f"replay:{tmp_path}"
    with pytest.raises(ValueError, match="synthetic:toaster: the scene can show ok"):
        source_from_spec("synthetic:toaster", camera)
    with pytest.raises(ValueError, match="expected synthetic"):
        source_from_spec("webcam", camera)


def test_picamera2_lores_is_rounded_up_to_cover_the_size_asked_and_kept_within_main():
    assert Picamera2Source((640, 480), (400, 300)).lores_size == (400, 304)
    assert Picamera2Source((320, 240), (400, 300)).lores_size == (320, 240)  # picamera2 refuses lores > main


def test_picamera2_frames_are_read_at_the_lores_size_libcamera_configured(monkeypatch):
    module = make_module(quadrants(), align=32)  # 400 pixels asked, 416 configured
    monkeypatch.setitem(sys.modules, "picamera2", module)
    source = Picamera2Source((640, 480), (400, 300))
    frame = source.read()
    assert frame.shape == (304, 416, 3) and source.lores_size == (416, 304)
    assert_quadrants(frame)


def test_the_pi_detection_stream_grows_to_the_largest_camera_models_input(tmp_path, monkeypatch):
    from edge_agent.config import AgentConfig
    from edge_agent.detectors.ml_catalog import build_ml_components

    monkeypatch.setitem(sys.modules, "picamera2", make_module(quadrants()))
    models = Path(__file__).resolve().parents[2] / "data" / "models" / "ssd_mobilenet_v1_coco_quant"
    labels = (models / "coco_labels.txt").read_text().splitlines()
    config = AgentConfig.model_validate({
        "agent": {"state_dir": str(tmp_path / "state")}, "control": {"socket_path": str(tmp_path / "ctl.sock")},
        "camera": {"source": "picamera2", "health": False},
        "models": {"directory": str(tmp_path), "window": {"enabled": False},
                   "custom": [{"name": "coco", "path": str(models / "detect.tflite"), "kind": "object_detection",
                               "labels": labels}]}})
    components = build_ml_components(config, scene=None)
    [collector] = components.collectors
    assert collector.source.lores_size == (400, 304)  # 192x144 configured, scaled to cover 300x300
    assert collector.collect(0.0, 0.0)[0].metrics["width"] == 400
    components.close()


def test_a_png_declaring_a_vast_size_in_a_replay_is_refused_before_it_is_decoded(tmp_path):
    from .test_image_header import png_declaring

    (tmp_path / "bomb.png").write_bytes(png_declaring(20000, 20000))
    with pytest.raises(CameraUnavailable, match="bomb.png: declares 20000x20000 pixels"):
        ReplaySource(tmp_path).read()


def test_a_replay_image_whose_content_is_another_format_than_its_suffix_says_is_refused(tmp_path):
    (tmp_path / "frame.png").write_bytes(b"GIF89a" + b"\0" * 64)
    with pytest.raises(CameraUnavailable, match="frame.png: not a PNG, JPEG or BMP image"):
        ReplaySource(tmp_path).read()


def test_a_png_in_a_replay_is_read_as_rgb(tmp_path):
    import cv2

    bgr = np.zeros((16, 24, 3), np.uint8)
    bgr[..., 0] = 200  # blue in OpenCV's order
    cv2.imwrite(str(tmp_path / "a.png"), bgr)
    frame = ReplaySource(tmp_path).read()
    assert frame.shape == (16, 24, 3) and frame[0, 0].tolist() == [0, 0, 200]


def test_a_replay_directory_of_more_entries_than_the_cap_is_refused_naming_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr("edge_agent.camera.replay.MAX_REPLAY_ENTRIES", 5)
    for n in range(6):
        write_ppm(tmp_path / f"{n}.ppm", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(CameraUnavailable, match="holds more than 5 entries"):
        ReplaySource(tmp_path).read()
    (tmp_path / "5.ppm").unlink()
    assert ReplaySource(tmp_path).read().shape == (8, 8, 3)


def test_a_video_declaring_frames_larger_than_a_frame_may_be_is_refused_before_a_frame_is_decoded(
        tmp_path, monkeypatch):
    import cv2

    monkeypatch.setattr("edge_agent.camera.formats.MAX_FRAME_PIXELS", 100 * 100)  # a small bomb for the test
    ok, jpeg = cv2.imencode(".jpg", np.zeros((200, 200, 3), np.uint8))
    (tmp_path / "one.mjpeg").write_bytes(jpeg.tobytes())
    with pytest.raises(CameraUnavailable, match="one.mjpeg: declares 200x200 pixels"):
        ReplaySource(tmp_path / "one.mjpeg").read()
