"""The one way the reader's models are loaded: any checkpoint (FP32 or FX INT8), for either backend,
read once and cached by file version (`core.files.FileCache`) with its calibrated temperature.

`load_reader` is what `predict`, `read_plates`, the command line and the benchmark all use.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple

import torch

from ..core.files import CheckpointError, FileCache
from ..core.shipped import FP32_WEIGHTS
from .checkpoint import load_model, read_checkpoint
from .quantize import fx_deprecations_silenced, load_quantized

DEFAULT_WEIGHTS = FP32_WEIGHTS  # inside the installed package, or the checkout's weights/ (anpr_ocr.core.shipped)
BACKENDS = ("torch", "onnx")  # "onnx": the FP32 checkpoint exported to ONNX Runtime (pip install "anpr_ocr[onnx]")


class Reader(NamedTuple):
    """A loaded model (a torch module, or an ONNX Runtime session called like one) and the temperature its
    logits are divided by before the softmax."""

    model: torch.nn.Module
    temperature: float


_readers: FileCache[Reader] = FileCache("checkpoint")  # per file version and backend


def default_weights() -> Path:
    """The committed model, or the checkpoint named by the ANPR_OCR_WEIGHTS environment variable."""
    return Path(os.environ.get("ANPR_OCR_WEIGHTS", DEFAULT_WEIGHTS))


def load_any(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Any anpr_ocr checkpoint, FP32 or FX INT8, read once: (model in eval mode, checkpoint dict)."""
    with fx_deprecations_silenced():  # reading quantized tensors trips FX's deprecation notices
        ckpt = read_checkpoint(path)
    if ckpt.get("kind", "fp32") == "fp32":
        return load_model(path, ckpt), ckpt
    return load_quantized(path, ckpt), ckpt


def load_reader(weights: str | Path | None = None, backend: str = "torch") -> Reader:
    """The model behind a checkpoint (default: `default_weights()`) for `backend`, with its calibrated
    temperature (1.0 when it stores none); loaded once and cached by file version."""
    path = weights if weights is not None else default_weights()
    return _readers.get(path, lambda p: _load(p, backend), backend)


def _load(path: Path, backend: str) -> Reader:
    model, ckpt = load_any(path)
    temperature = ckpt.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise CheckpointError(f"{path}: temperature must be a positive number, got {temperature!r}")
    if backend == "onnx":
        model = _onnx_reader(path, model, ckpt.get("kind", "fp32"))
    return Reader(model, float(temperature))


def _onnx_reader(path: Path, model: torch.nn.Module, kind: str):
    """The FP32 checkpoint exported to ONNX (checked against torch) and opened in ONNX Runtime."""
    if kind != "fp32":
        raise CheckpointError(f"{path}: backend='onnx' runs FP32 checkpoints; this one holds a {kind} model")
    import tempfile

    from .onnx_backend import OnnxReader, export_onnx

    with tempfile.TemporaryDirectory() as tmp:  # the session keeps the graph in memory
        onnx_path = Path(tmp) / "model.onnx"
        export_onnx(model, onnx_path, check=False)
        return OnnxReader(onnx_path, threads=torch.get_num_threads())
