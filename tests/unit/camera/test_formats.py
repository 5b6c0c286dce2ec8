"""The formats read without OpenCV: PNM, .npy, Y4M video, picamera2's YUV 4:2:0, and the snapshot PNG."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.camera.formats import (
    encode_png,
    i420_to_rgb,
    read_npy_frames,
    read_pnm,
    read_y4m,
    rgb_to_i420,
    write_ppm,
    write_y4m,
)
from edge_agent.camera.frames import FrameError


def gradient(width=32, height=24) -> np.ndarray:
    """Colours constant over each 2x2 block, as 4:2:0 chroma can carry them."""
    yy, xx = np.mgrid[0:height, 0:width] // 2 * 2
    return np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 128)], -1).astype(np.uint8)


def test_ppm_round_trip_is_exact(tmp_path):
    write_ppm(tmp_path / "f.ppm", gradient())
    assert np.array_equal(read_pnm(tmp_path / "f.ppm"), gradient())


def test_pgm_with_a_comment_reads_as_grey_rgb(tmp_path):
    (tmp_path / "g.pgm").write_bytes(b"P5\n# from a camera\n2 1\n255\n" + bytes([10, 200]))
    assert read_pnm(tmp_path / "g.pgm").tolist() == [[[10, 10, 10], [200, 200, 200]]]


def test_a_16_bit_pnm_is_refused_clearly(tmp_path):
    (tmp_path / "deep.ppm").write_bytes(b"P6\n1 1\n65535\n" + bytes(6))
    with pytest.raises(FrameError, match="only 8-bit"):
        read_pnm(tmp_path / "deep.ppm")


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal but for rounding through YUV."""
    return np.abs(a.astype(int) - b).max() <= 3


def test_yuv420_round_trip_stays_within_a_few_levels():
    frame = gradient()
    assert close(i420_to_rgb(np.frombuffer(rgb_to_i420(frame), np.uint8), 32, 24), frame)


def test_y4m_video_round_trip_keeps_every_frame(tmp_path):
    frames = [gradient(), 255 - gradient()]
    write_y4m(tmp_path / "v.y4m", frames)
    read = list(read_y4m(tmp_path / "v.y4m"))
    assert len(read) == 2
    assert all(close(a, b) for a, b in zip(read, frames, strict=True))


def test_a_truncated_y4m_frame_is_reported(tmp_path):
    write_y4m(tmp_path / "v.y4m", [gradient()])
    (tmp_path / "v.y4m").write_bytes((tmp_path / "v.y4m").read_bytes()[:-10])
    with pytest.raises(FrameError, match="truncated"):
        list(read_y4m(tmp_path / "v.y4m"))


def test_a_file_without_the_y4m_header_is_refused(tmp_path):
    (tmp_path / "v.y4m").write_bytes(b"RIFF....AVI ")
    with pytest.raises(FrameError, match="not a Y4M file"):
        list(read_y4m(tmp_path / "v.y4m"))


def test_npy_holds_one_frame_or_a_stack(tmp_path):
    np.save(tmp_path / "one.npy", gradient())
    np.save(tmp_path / "stack.npy", np.stack([gradient()] * 3))
    assert len(read_npy_frames(tmp_path / "one.npy")) == 1
    assert len(read_npy_frames(tmp_path / "stack.npy")) == 3


def test_snapshot_png_decodes_to_the_same_pixels():
    cv2 = pytest.importorskip("cv2")
    png = encode_png(gradient())
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    assert np.array_equal(decoded, gradient())


@pytest.mark.parametrize("header", [
    b"YUV4MPEG2 W100000000 H100000000 C420jpeg\n",  # believed, this would allocate petabytes per frame
    b"YUV4MPEG2 W640 Habc C420jpeg\n",
    b"YUV4MPEG2 W" + b"9" * 5000 + b" H480 C420jpeg\n",  # past Python's digit limit
    b"YUV4MPEG2 W-640 H480 C420jpeg\n",
])
def test_a_y4m_header_with_an_impossible_size_is_a_frame_error(tmp_path, header):
    path = tmp_path / "bad.y4m"
    path.write_bytes(header + b"FRAME\n" + b"\x00" * 64)
    with pytest.raises(FrameError, match="is not a size from 1 to 8192"):
        list(read_y4m(path))


@pytest.mark.parametrize("data", [
    b"P6\n99999999 99999999\n255\n\x00\x00\x00",
    b"P6\nwide 4\n255\n" + b"\x00" * 48,
    b"P6\n# a comment that never ends",
    b"P6\n4 4\n255\n" + b"\x00" * 10,  # truncated pixels
    b"P6\n4 4\n" + b"9" * 5000 + b"\n" + b"\x00" * 48,
])
def test_a_pnm_file_that_is_corrupt_or_hostile_is_a_frame_error(tmp_path, data):
    path = tmp_path / "bad.ppm"
    path.write_bytes(data)
    with pytest.raises(FrameError):
        read_pnm(path)


def test_a_pnm_declaring_more_pixels_than_a_frame_may_have_is_refused(tmp_path):
    path = tmp_path / "big.ppm"
    path.write_bytes(b"P6\n8192 8192\n255\n" + b"\x00" * 64)  # each side allowed; 64 Mpixel in all is not
    with pytest.raises(FrameError, match="declares 8192x8192 pixels"):
        read_pnm(path)


def test_a_y4m_declaring_more_pixels_than_a_frame_may_have_is_refused(tmp_path):
    path = tmp_path / "big.y4m"
    path.write_bytes(b"YUV4MPEG2 W8192 H8192 C420jpeg\nFRAME\n" + b"\x00" * 64)
    with pytest.raises(FrameError, match="declares 8192x8192 pixels"):
        list(read_y4m(path))


@pytest.mark.timeout(10)
def test_a_y4m_header_without_an_end_is_refused_without_reading_the_whole_file(tmp_path):
    path = tmp_path / "endless.y4m"
    path.write_bytes(b"YUV4MPEG2 W64 H48 " + b"X" * 100_000)
    with pytest.raises(FrameError, match="header line longer than 65536 bytes"):
        list(read_y4m(path))


def test_a_npy_header_declaring_a_vast_stack_is_a_frame_error_not_a_memory_error(tmp_path):
    from numpy.lib import format as npy_format

    path = tmp_path / "lie.npy"
    with path.open("wb") as f:
        npy_format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False,
                                              "shape": (100_000, 4096, 4096, 3)})
        f.write(b"\x00" * 100)
    with pytest.raises(FrameError, match="not a NumPy array file"):
        read_npy_frames(path)


def test_a_npy_of_five_dimensions_is_refused_naming_its_shape(tmp_path):
    np.save(tmp_path / "odd.npy", np.zeros((2, 2, 8, 8, 3), np.uint8))
    with pytest.raises(FrameError, match=r"shape \(2, 2, 8, 8, 3\)"):
        read_npy_frames(tmp_path / "odd.npy")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("reader, name", [(read_pnm, "f.ppm"), (read_npy_frames, "f.npy"),
                                          (lambda p: list(read_y4m(p)), "f.y4m")])
def test_a_fifo_or_a_device_in_place_of_a_frame_file_is_refused_without_blocking(tmp_path, reader, name):
    import os

    os.mkfifo(tmp_path / name)
    with pytest.raises(FrameError, match="not a regular file"):
        reader(tmp_path / name)
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(FrameError, match="not a regular file"):
        reader(tmp_path / "zero")


def test_a_y4m_of_odd_size_reads_with_its_chroma_rounded_up(tmp_path):
    width, height = 33, 25
    path = tmp_path / "odd.y4m"
    chroma = 2 * ((width + 1) // 2) * ((height + 1) // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} C420jpeg\n".encode() + b"FRAME\n"
                     + b"\x80" * (width * height + chroma))
    [frame] = list(read_y4m(path))
    assert frame.shape == (25, 33, 3) and np.all(frame == 130)


def test_the_conversion_works_band_by_band_and_gives_the_whole_frames_result(monkeypatch):
    frame = gradient(32, 24)
    planes = np.frombuffer(rgb_to_i420(frame), np.uint8)
    whole = i420_to_rgb(planes, 32, 24)
    monkeypatch.setattr("edge_agent.camera.formats.CONVERSION_BAND_ROWS", 4)
    assert np.array_equal(i420_to_rgb(planes, 32, 24), whole)


def test_a_4k_frame_is_converted_without_float_copies_of_the_whole_frame():
    import tracemalloc

    width, height = 3840, 2160
    planes = np.full(width * height * 3 // 2, 128, np.uint8)
    tracemalloc.start()
    try:
        i420_to_rgb(planes, width, height)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * width * height * 3  # the RGB result and one band's work; whole-frame floats were 14 times it
