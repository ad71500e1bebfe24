"""The detector's INT8 graph: the fused FP32 net quantized after training by ONNX Runtime and stored in the
detector checkpoint, which `read_plates` then runs under backend "auto" and "onnx" (torch runs the FP32 weights).

    from anpr_ocr.detector.quantize import quantize_detector
    quantize_detector("runs/detector/best.pth", [p.grey for p in train_photos])   # adds the graph, in place

How: the net's `locate` exported as `onnx_backend.export_detector_onnx` exports it but with the stem as trained
(not padded: an INT8 graph runs faster without the padding, and one stored graph then suits CPUs with and without
AVX-512), then QDQ static quantization (`core.onnx_runtime.quantize_qdq`): INT8 weights per channel in 7 bits (the
16-bit sums of the kernels for CPUs without VNNI need the spare bit), UINT8 activations per tensor, their ranges
the minimum and maximum over the first CALIBRATION_PHOTOS training photos, letterboxed as `read_plates`
letterboxes them. The corner head, read at the heatmap's peaks only, stays float in PyTorch. Plain quantization
after training reads winter renders as the FP32 net does; quantization-aware fine-tuning added nothing
(docs/experiments.md). Making the graph needs the onnx extra; so does running it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.onnx_runtime import quantize_qdq, require_onnx
from .checkpoint import load_detector, set_int8_graph
from .net import fuse_for_inference, letterbox, to_tensor
from .onnx_backend import INPUT_NAME, export_detector_onnx

CALIBRATION_PHOTOS = 64  # the first training photos the activation ranges are taken on
CALIBRATION_METHOD = "MinMax"


def int8_recipe(photos: int) -> dict:
    """How `quantize_detector` made a graph from `photos` calibration photos, for the checkpoint and its card."""
    return {"tool": "onnxruntime.quantization.quantize_static", "onnxruntime": require_onnx("onnxruntime").__version__,
            "format": "QDQ", "weights": "int8 per channel, 7-bit range (reduce_range)",
            "activations": "uint8 per tensor", "calibration_method": CALIBRATION_METHOD,
            "calibration": f"{photos} training photos", "stem": "as trained (not padded)",
            "float": "the corner head (PyTorch, at the heatmap's peaks)"}


def quantize_detector(path: str | Path, greys: Sequence[np.ndarray], photos: int = CALIBRATION_PHOTOS) -> dict:
    """Add the INT8 graph of the detector checkpoint at `path`, calibrated on the first `photos` of `greys`
    (training photos, grey), to that checkpoint, replacing any it had; returns its recipe (`int8_recipe`)."""
    if not greys:
        raise ValueError("quantize_detector needs at least one calibration photo")
    model = fuse_for_inference(load_detector(path))
    size = model.config.input_size
    batches = [to_tensor([letterbox(grey, size).image]).numpy() for grey in greys[:photos]]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        fp32.write_bytes(export_detector_onnx(model, pad_stem=False))
        graph = quantize_qdq(fp32, Path(tmp) / "int8.onnx", INPUT_NAME, batches, CALIBRATION_METHOD).read_bytes()
    recipe = int8_recipe(len(batches))
    set_int8_graph(path, graph, recipe)
    return recipe
