#!/usr/bin/env python3
"""Write the two tiny stand-ins for an operator's own models that the tests load (tests/data/models/):
an SSD-style object detector with the usual four outputs, and a float image classifier. They compute fixed
formulas (no training): the detector scores how red each quadrant of the frame is; the classifier says
dark or bright. Needs TensorFlow (the train extra):

    .venv-train/bin/python scripts/make_test_models.py
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "models"


def main() -> None:
    import tensorflow as tf

    OUT.mkdir(parents=True, exist_ok=True)

    class RedQuadrants(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 64, 64, 3], tf.float32)])
        def detect(self, image):
            # Input is (pixel - 127.5) / 127.5; redness = r - (g + b) / 2 averaged per quadrant.
            redness = image[..., 0] - (image[..., 1] + image[..., 2]) / 2
            quadrants = tf.reshape(tf.nn.avg_pool2d(redness[..., None], 32, 32, "VALID"), [1, 4])
            scores = tf.sigmoid(12.0 * (quadrants - 0.4))
            boxes = tf.constant([[[0, 0, .5, .5], [0, .5, .5, 1], [.5, 0, 1, .5], [.5, .5, 1, 1]]], tf.float32)
            classes = tf.zeros([1, 4], tf.float32)
            count = tf.constant([4.0])
            return {"a_boxes": boxes, "b_classes": classes, "c_scores": scores, "d_count": count}

    class Brightness(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)])
        def classify(self, image):
            mean = tf.reduce_mean(image, axis=[1, 2, 3])
            return {"scores": tf.nn.softmax(tf.stack([-10.0 * mean, 10.0 * mean], axis=1))}

    for name, module, method in (("tiny_detector", RedQuadrants(), "detect"),
                                 ("tiny_classifier", Brightness(), "classify")):
        function = getattr(module, method).get_concrete_function()
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
        (OUT / f"{name}.tflite").write_bytes(converter.convert())
        details = tf.lite.Interpreter(model_path=str(OUT / f"{name}.tflite")).get_output_details()
        print(name, [(d["name"], list(d["shape"])) for d in details])


if __name__ == "__main__":
    main()
