"""The real daemon given hostile files to read: a corrupt camera model and a decompression-bomb frame. It keeps
running within its memory, says what is wrong with which file, and keeps answering its control socket."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import psutil
import pytest
from agent_process import Daemon, wait_for

TINY_CLASSIFIER = Path(__file__).resolve().parents[1] / "data" / "models" / "tiny_classifier.tflite"
# One byte of the flatbuffer changed: tflite-runtime follows the bad offset into SIGSEGV while it constructs the
# interpreter (tests/unit/ml/test_model_trial.py).
CRASHING_OFFSET, CRASHING_BYTE = 1210, 0x75
RSS_BUDGET = 128 * 1024 * 1024  # the unit's MemoryMax


def png_bomb(width: int, height: int) -> bytes:
    """A PNG of zeros that declares width x height: about 1 MiB on disk per 1 GB decoded."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (3 * width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def peak_rss_while(daemon: Daemon, condition, timeout_s: float, what: str) -> int:
    """Wait for `condition`, sampling the agent's resident memory; its peak."""
    process = psutil.Process(daemon.proc.pid)
    peak = 0

    def sample():
        nonlocal peak
        assert daemon.proc.poll() is None, f"the agent died ({daemon.proc.returncode}):\n{daemon.log_text()}"
        peak = max(peak, process.memory_info().rss)
        return condition()

    wait_for(sample, timeout_s, what)
    return peak


@pytest.mark.timeout(90)
def test_a_corrupt_camera_model_is_reported_and_the_agent_keeps_running(short_tmp: Path):
    content = bytearray(TINY_CLASSIFIER.read_bytes())
    content[CRASHING_OFFSET] = CRASHING_BYTE
    model = short_tmp / "corrupt.tflite"
    model.write_bytes(bytes(content))
    daemon = Daemon(short_tmp, extra_config=f"""
[models]
runtime = "tflite-runtime"
[[models.custom]]
name = "shelf"
path = "{model}"
kind = "classifier"
labels = ["empty", "full"]
""")
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=30)
        [status] = [m for m in daemon.ask_json("status")["models"] if m["name"] == "shelf"]
        assert status["loaded"] is False
        assert "corrupt.tflite" in status["error"] and "corrupt" in status["error"].split("corrupt.tflite", 1)[1]
        assert daemon.proc.poll() is None
        assert daemon.ask_json("status")["device_id"] == "itest-gw"
    finally:
        daemon.stop()


@pytest.mark.timeout(90)
def test_a_png_bomb_in_the_replay_directory_is_refused_within_the_agents_memory(short_tmp: Path):
    frames = short_tmp / "frames"
    frames.mkdir()
    (frames / "bomb.png").write_bytes(png_bomb(20000, 20000))  # 1.1 MiB on disk, 1.2 GB decoded
    daemon = Daemon(short_tmp, extra_config=f"""
[camera]
source = "replay"
path = "{frames}"
fps = 2
""")
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=30)

        def camera_issue():
            return [i for i in daemon.ask_json("issues") if i["type"] == "camera_unavailable"]

        peak = peak_rss_while(daemon, camera_issue, timeout_s=40, what="camera_unavailable naming the bomb")
        [issue] = camera_issue()
        assert "bomb.png: declares 20000x20000 pixels" in str(issue["evidence"]) + issue.get("summary", "")
        assert peak < RSS_BUDGET, f"peak RSS {peak / 2**20:.0f} MiB"
    finally:
        daemon.stop()
