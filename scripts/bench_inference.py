#!/usr/bin/env python3
"""Inference cost on both TFLite runtimes: the agent's detector call against a bare interpreter.invoke() on
the same model (the overhead ratio), the vision pipeline's frames/s end to end, and RSS with both models loaded.

Usage: .venv/bin/python scripts/bench_inference.py [--batches 25] [--calls 200] [--ssd-batches 7] [--ssd-calls 4]

Also the real COCO SSD detector from tests/data/models as an operator's model, and the cost of bringing a
640x480 frame to a model's input (OpenCV and numpy).

Each runtime runs in its own child process (so RSS is its own). Times are per call: the median over batches
of the batch mean, one thread, after a warm-up. A detector call and the bare invoke it is compared with run in
alternating batches; their ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def per_call_us(call, batches: int, calls: int) -> float:
    for _ in range(calls):  # warm-up: caches, XNNPACK's first-run packing
        call()
    means = []
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(calls):
            call()
        means.append((time.perf_counter_ns() - start) / calls / 1000)
    return statistics.median(means)


def paired_us(bare, calls_to_compare: dict, batches: int, calls: int) -> dict:
    """The bare call and each detector call timed in alternating batches, so that both see the same load from
    whatever else runs on the machine: median per-call times, and the median of the per-round ratios (which
    a busy machine disturbs far less than the ratio of two medians taken minutes apart)."""
    for call in (bare, *calls_to_compare.values()):
        for _ in range(calls):  # warm-up
            call()
    times: dict[str, list[float]] = {"bare": [], **{name: [] for name in calls_to_compare}}
    for _ in range(batches):
        for name, call in (("bare", bare), *calls_to_compare.items()):
            start = time.perf_counter_ns()
            for _ in range(calls):
                call()
            times[name].append((time.perf_counter_ns() - start) / calls / 1000)
    result = {f"{name}_us": round(statistics.median(values), 1) for name, values in times.items()}
    for name in calls_to_compare:
        result[f"{name}_ratio"] = round(statistics.median(
            [c / b for c, b in zip(times[name], times["bare"], strict=True)]), 3)
    return result


def photo_at(name: str, width: int, height: int):
    from edge_agent.camera.frames import resize
    from edge_agent.camera.replay import ReplaySource

    return resize(ReplaySource(ROOT / "tests" / "data" / "photos" / "scenes" / f"{name}.jpg").read(), width, height)


def ssd_costs(runtime, batches: int, calls: int) -> dict:
    """The real COCO SSD (tests/data/models) as an operator's detector: a bare invoke against the detector call
    (prepare the frame, invoke, check and parse the four outputs, the camera.custom sample, the findings) on a
    real photo at the model's 300x300 and at 640x480 (the resize included)."""
    from edge_agent.config import CustomModelConfig
    from edge_agent.detectors.custom_model import CustomModelDetector
    from edge_agent.ml.custom import load_custom_model

    directory = ROOT / "tests" / "data" / "models" / "ssd_mobilenet_v1_coco_quant"
    labels = (directory / "coco_labels.txt").read_text().splitlines()
    config = CustomModelConfig(name="coco-ssd", path=directory / "detect.tflite", kind="object_detection",
                               labels=labels, alert_labels=["person"], min_score=0.5)
    detector = CustomModelDetector(load_custom_model(config, runtime, 1, directory))
    model = detector.model.model
    small, vga = photo_at("jetson_humans_5", 300, 300), photo_at("jetson_humans_5", 640, 480)
    model.interpreter.set_tensor(model.inputs[0].index, detector.model.prepare(small))
    return paired_us(model.interpreter.invoke, {
        "call_300x300": lambda: detector.evaluate(detector.analyse(small, "bench", 0.0, 0.0)),
        "call_640x480": lambda: detector.evaluate(detector.analyse(vga, "bench", 0.0, 0.0)),
    }, batches, calls)


def resize_costs(batches: int, calls: int) -> dict:
    """What bringing a 640x480 frame to a model's input costs, with OpenCV and with numpy alone."""
    from edge_agent.camera.resize import area_resize

    vga = photo_at("jetson_room_4", 640, 480)
    costs = {}
    for target in ((96, 96), (300, 300)):
        for use_opencv in (True, False):
            key = f"{target[0]}x{target[1]}_{'opencv' if use_opencv else 'numpy'}_us"
            costs[key] = round(per_call_us(lambda t=target, cv=use_opencv: area_resize(vga, *t, cv), batches, calls), 1)
    return costs


def worker(runtime_name: str, batches: int, calls: int, ssd_batches: int, ssd_calls: int) -> dict:
    import numpy as np

    from edge_agent.camera.frames import resize

    baseline = rss_mb()
    from edge_agent.camera.formats import write_y4m
    from edge_agent.camera.replay import ReplaySource
    from edge_agent.collectors.camera import CameraCollector
    from edge_agent.detectors.vision import VisionDetector
    from edge_agent.detectors.window_classifier import WindowClassifierDetector
    from edge_agent.ml.classifiers import load_frame_classifier, load_window_classifier
    from edge_agent.ml.datasets import window_dataset
    from edge_agent.ml.runtime import select_runtime
    from edge_agent.sim.camera_scene import render_labelled
    from edge_agent.sim.link_physics import TRAIN_PROFILES

    runtime = select_runtime(runtime_name)
    imported = rss_mb()
    window = load_window_classifier(ROOT / "models" / "connectivity_window.tflite", runtime)
    vision = VisionDetector(load_frame_classifier(ROOT / "models" / "gateway_vision.tflite", runtime), 0.6)
    loaded = rss_mb()
    results: dict = {"runtime": f"{runtime.name} {runtime.version}",
                     "rss_mb": {"python_numpy": round(baseline, 1), "runtime_imported": round(imported, 1),
                                "both_models_loaded": round(loaded, 1)}}

    # Window classifier: bare invoke vs the classifier call on a scaled window, and from raw rows.
    x, _ = window_dataset(1, window.steps, seed=9, profiles=TRAIN_PROFILES)
    spec = window.model.metadata.input
    from edge_agent.ml.quantise import quantise

    window.model.interpreter.set_tensor(window.model.inputs[0].index,
                                        quantise(x[:1], spec.scale, spec.zero_point, spec.dtype))
    bare = per_call_us(window.model.interpreter.invoke, batches, calls)
    call = per_call_us(lambda: window.classify_array(x[0]), batches, calls)
    detector = WindowClassifierDetector(window, every_n_rounds=1, min_score=0.6)
    row = [-60.0, -94.0, 0.2, 0.05, 150.0, 2.0, 0.0, 20.0]
    detector.rows.extend((i * window.grid.slot_s, row) for i in range(window.steps))  # rounds spanning the window
    detector._first_round = 0.0
    full = per_call_us(detector._classify_if_due, batches, calls)
    results["window"] = {"bare_invoke_us": round(bare, 1), "classify_us": round(call, 1),
                         "detector_call_us": round(full, 1), "ratio": round(full / bare, 2)}

    # Vision: bare invoke vs the detector call (analyse the frame, then the findings), at the model's input size
    # and at the detection stream's size (resize included).
    frames, _ = render_labelled(4, seed=11, size=(vision.classifier.width, vision.classifier.height))
    large, _ = render_labelled(4, seed=12, size=(192, 144))
    interpreter = vision.classifier.model.interpreter
    interpreter.set_tensor(vision.classifier.model.inputs[0].index, vision.classifier.prepare(frames[0]))
    vga = resize(large[0], 640, 480)
    results["vision"] = paired_us(interpreter.invoke, {
        "call_96x96": lambda: vision.evaluate(vision.analyse(frames[0], "bench", 0.0, 0.0)),
        "call_192x144": lambda: vision.evaluate(vision.analyse(large[0], "bench", 0.0, 0.0)),
        "call_640x480": lambda: vision.evaluate(vision.analyse(vga, "bench", 0.0, 0.0)),
    }, batches, calls // 4)
    results["ssd"] = ssd_costs(runtime, ssd_batches, ssd_calls)

    # End to end: a 192x144 Y4M replay → camera collector (decode, resize, model, verdict) → findings.
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "bench.y4m"
        clip, _ = render_labelled(50, seed=13, size=(192, 144))
        write_y4m(video, list(clip))
        collector = CameraCollector(1.0, ReplaySource(video, loop=True), [vision.analyse])

        def one_frame() -> None:
            for sample in collector.collect(0.0, 0.0):
                vision.evaluate(sample)

        frame_us = per_call_us(one_frame, max(5, batches // 5), 50)
    results["pipeline_fps"] = round(1e6 / frame_us, 1)
    results["resize"] = resize_costs(max(5, batches // 5), max(10, calls // 10))
    np.asarray(0)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--ssd-batches", type=int, default=7, help="the COCO SSD is slow: fewer, shorter batches")
    parser.add_argument("--ssd-calls", type=int, default=4)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.batches, args.calls, args.ssd_batches, args.ssd_calls)))
        return 0
    from edge_agent.ml.runtime import available_runtimes

    for name in available_runtimes():
        out = subprocess.run([sys.executable, __file__, "--worker", name, "--batches", str(args.batches),
                              "--calls", str(args.calls), "--ssd-batches", str(args.ssd_batches),
                              "--ssd-calls", str(args.ssd_calls)], capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        w, v = r["window"], r["vision"]
        print(f"{r['runtime']}:")
        print(f"  window classifier: bare invoke {w['bare_invoke_us']} us, classify {w['classify_us']} us, "
              f"detector call {w['detector_call_us']} us (ratio {w['ratio']})")
        print(f"  vision model: bare invoke {v['bare_us']} us; detector call from 96x96 {v['call_96x96_us']} us "
              f"(ratio {v['call_96x96_ratio']}), from 192x144 {v['call_192x144_us']} us "
              f"(ratio {v['call_192x144_ratio']}), from 640x480 {v['call_640x480_us']} us "
              f"(ratio {v['call_640x480_ratio']})")
        d = r["ssd"]
        print(f"  COCO SSD detector: bare invoke {d['bare_us']} us; detector call from 300x300 "
              f"{d['call_300x300_us']} us (ratio {d['call_300x300_ratio']}), from 640x480 {d['call_640x480_us']} us "
              f"(ratio {d['call_640x480_ratio']})")
        print(f"  vision pipeline end to end (192x144 Y4M replay): {r['pipeline_fps']} frames/s")
        print("  resize 640x480: " + ", ".join(f"{k} {v}" for k, v in r["resize"].items()))
        rss = r["rss_mb"]
        print(f"  RSS: python+numpy {rss['python_numpy']} MB, runtime imported {rss['runtime_imported']} MB, "
              f"both models loaded {rss['both_models_loaded']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
