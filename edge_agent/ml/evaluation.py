"""How well a classifier does on labelled data: accuracy, macro-F1, per-class precision and recall. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def classification_report(truth: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Metrics of `predicted` against `truth` (label indices), rounded for the metadata JSON."""
    n = len(labels)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (np.asarray(truth), np.asarray(predicted)), 1)
    per_class, f1s = {}, []
    for i, label in enumerate(labels):
        true_positive = confusion[i, i]
        precision = true_positive / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = true_positive / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[label] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                            "f1": round(float(f1), 4), "support": int(confusion[i].sum())}
    return {
        "accuracy": round(float(np.trace(confusion) / max(confusion.sum(), 1)), 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def evaluate_classifier(classify, inputs: np.ndarray, truth: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Run `classify` (input → Prediction) over every input and report against `truth`."""
    index = {label: i for i, label in enumerate(labels)}
    predicted = np.array([index[classify(sample).label] for sample in inputs])
    return classification_report(truth, predicted, labels)
