#!/usr/bin/env python3
"""The window classifier on the independent generator (edge_agent/ml/independent_windows.py), as a Markdown table:
accuracy, macro-F1, confident errors (wrong with score >= min_score) and unknowns per set, and what it calls
windows of nothing but 15 % loss.

    nice .venv/bin/python scripts/bench_window_model.py [--model models/connectivity_window.tflite]
    nice .venv/bin/python scripts/bench_window_model.py --model OLD.tflite --legacy-rounds 30   # before 2.0.0

--legacy-rounds N windows as the agent did before 2.0.0 (the last N rounds whatever their spacing, no
coverage or plausibility gate), to measure an older model the way it ran.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge_agent.config import WindowModelConfig  # noqa: E402
from edge_agent.ml.classifiers import WindowClassifier  # noqa: E402
from edge_agent.ml.independent_windows import steady_loss  # noqa: E402
from edge_agent.ml.runtime import load_classifier, select_runtime  # noqa: E402
from edge_agent.ml.window_benchmark import independent_suite, last_rounds_window, time_window  # noqa: E402
from edge_agent.ml.window_features import fill_gaps, scale_window  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "connectivity_window.tflite")
    parser.add_argument("--runtime", default="tflite-runtime")
    parser.add_argument("--legacy-rounds", type=int, metavar="N")
    args = parser.parse_args()
    classifier = WindowClassifier(load_classifier(args.model, select_runtime(args.runtime)))
    min_score = WindowModelConfig().min_score
    legacy = args.legacy_rounds
    if legacy:
        def classify(window):
            return classifier.classify_array(scale_window(fill_gaps(window)))
    else:
        classify = classifier.classify_raw
    meta = classifier.model.metadata
    print(f"{meta.name} {meta.version}, " + (f"last {legacy} rounds" if legacy else "time grid") +
          f", min_score {min_score}\n")
    print("| set | n | accuracy | macro-F1 | confident errors | unknown |")
    print("|---|---|---|---|---|---|")
    for name, r in independent_suite(classify, classifier.grid, min_score, legacy).items():
        print(f"| {name} | {r['count']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
              f"{r['confident_error_rate']:.1%} | {r['unknown_rate']:.1%} |")
    print("\n| nothing but 15 % loss | n | verdicts (score >= min_score, else unknown) |")
    print("|---|---|---|")
    for bursty in (False, True):
        for interval in (1.0, 5.0):
            samples = steady_loss(40, 7, 0.15, interval, bursty)
            windows = [last_rounds_window(s, legacy) if legacy else time_window(s, classifier.grid) for s in samples]
            verdicts = Counter()
            for window in windows:
                prediction = classify(window)
                verdicts[prediction.label if prediction.score >= min_score else "unknown"] += 1
            kind = "bursty" if bursty else "random"
            print(f"| {kind}, {interval:g} s probes | {len(samples)} | "
                  + ", ".join(f"{label} {n}" for label, n in verdicts.most_common()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
