"""The one way the reader's models are loaded: any checkpoint (FP32 or INT8), for any backend, read
once and cached by file version (`core.files.FileCache`) with its calibrated temperature.

`load_reader` is what `predict`, `read_plates`, the command line and the benchmark all use.

Backends: "torch" runs PyTorch (FP32 eager, or the frozen FX INT8 graph); "onnx" runs ONNX Runtime (an
FP32 checkpoint exported on load, or the INT8 graph an INT8 checkpoint carries; `pip install
"anpr_ocr[onnx]"`); "auto", the default, runs FP32 checkpoints in ONNX Runtime where the onnx extra
is installed (the same readings, a model call about twice as fast on a CPU: docs/experiments.md) and
in PyTorch where it is not, and INT8 ones in the INT8 model `core.cpu.int8_backend` picks (ONNX
Runtime's where onnxruntime imports, the faster on every CPU measured; FX's where it does not), so
reading never needs the onnx extra.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple

import torch

from ..core.files import CheckpointError, FileCache
from ..core.onnx_runtime import DEFAULT_BACKEND, onnx_export_available
from ..core.shipped import FP32_WEIGHTS, INT8_WEIGHTS
from .checkpoint import load_model, read_checkpoint
from .quantize import fx_deprecations_silenced, load_quantized, onnx_int8_graph

DEFAULT_WEIGHTS = FP32_WEIGHTS  # inside the installed package, or the checkout's weights/ (anpr_ocr.core.shipped)


class Reader(NamedTuple):
    """A loaded model (a torch module, or an ONNX Runtime session called like one), the temperature its
    logits are divided by before the softmax, and what runs it: "torch" or "onnx" ("auto" resolved)."""

    model: torch.nn.Module
    temperature: float
    backend: str = "torch"


_readers: FileCache[Reader] = FileCache("checkpoint")  # per file version and backend


def default_weights() -> Path:
    """The committed model, or the checkpoint named by the ANPR_OCR_WEIGHTS environment variable."""
    return Path(os.environ.get("ANPR_OCR_WEIGHTS", DEFAULT_WEIGHTS))


def default_photo_weights() -> Path:
    """What `read_plates` and the video reader read plates with by default: the checkpoint named by
    ANPR_OCR_WEIGHTS, else the committed INT8 model where INT8 runs here (`int8_runs_here`), else the FP32 one.
    A photo's time is mostly the detector's and the reader's, and on the VKCV photos the INT8 model reads the
    plates the FP32 one reads (docs/experiments.md); `predict` keeps the FP32 model, the one its figures are of."""
    if "ANPR_OCR_WEIGHTS" in os.environ:
        return default_weights()
    return INT8_WEIGHTS if int8_runs_here() else FP32_WEIGHTS


def int8_runs_here() -> bool:
    """Whether an INT8 checkpoint can be read here: onnxruntime imports (its ONNX Runtime INT8 graph), or
    PyTorch has its x86 INT8 engine (the FX model)."""
    from ..core.cpu import onnxruntime_available

    return onnxruntime_available() or "x86" in torch.backends.quantized.supported_engines


def load_any(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Any anpr_ocr checkpoint, FP32 or FX INT8, read once: (torch model in eval mode, checkpoint dict)."""
    ckpt = _read(path)
    return _torch_model(path, ckpt), ckpt


def _read(path: str | Path) -> dict:
    with fx_deprecations_silenced():  # reading quantized tensors trips FX's deprecation notices
        return read_checkpoint(path)


def _torch_model(path: str | Path, ckpt: dict) -> torch.nn.Module:
    if ckpt.get("kind", "fp32") == "fp32":
        return load_model(path, ckpt)
    return load_quantized(path, ckpt)


def load_reader(weights: str | Path | None = None, backend: str = DEFAULT_BACKEND) -> Reader:
    """The model behind a checkpoint (default: `default_weights()`) as `predict` runs it with `backend`,
    with its calibrated temperature (1.0 when it stores none); loaded once and cached by file version."""
    path = weights if weights is not None else default_weights()
    return _readers.get(path, lambda p: _load(p, backend), backend)


def reader_backend(weights: str | Path | None = None, backend: str = DEFAULT_BACKEND) -> str:
    """What runs a checkpoint when `predict` is asked for `backend`: "torch" or "onnx"."""
    return load_reader(weights, backend).backend


def _load(path: Path, backend: str) -> Reader:
    ckpt = _read(path)
    temperature = ckpt.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise CheckpointError(f"{path}: temperature must be a positive number, got {temperature!r}")
    runs = _resolve_backend(backend, ckpt)
    model = _onnx_reader(path, ckpt) if runs == "onnx" else _torch_model(path, ckpt)  # only what runs is built
    return Reader(model, float(temperature), runs)


def _resolve_backend(backend: str, ckpt: dict) -> str:
    """What "auto" means for this checkpoint: FP32 runs in ONNX Runtime where a model can be exported
    and run there, else in torch; INT8 as `core.cpu.int8_backend` says, in torch when the checkpoint
    carries no ONNX Runtime INT8 graph."""
    if backend != "auto":
        return backend
    if ckpt.get("kind", "fp32") == "fp32":
        return "onnx" if onnx_export_available() else "torch"
    if ckpt.get("onnx_int8") is None:
        return "torch"
    from ..core.cpu import int8_backend

    return int8_backend()


def _onnx_reader(path: Path, ckpt: dict):
    """An ONNX Runtime session: the INT8 graph an INT8 checkpoint carries, or the FP32 checkpoint
    exported to ONNX on load."""
    from .onnx_backend import OnnxReader, export_onnx

    threads = torch.get_num_threads()
    if ckpt.get("kind", "fp32") != "fp32":
        graph = onnx_int8_graph(ckpt)
        if graph is None:
            raise CheckpointError(f"{path} carries no ONNX Runtime INT8 graph (made without onnxruntime); "
                                  "use backend='torch', or quantize it again with onnxruntime installed")
        return OnnxReader(graph, threads=threads)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # the session keeps the graph in memory
        onnx_path = Path(tmp) / "model.onnx"
        export_onnx(load_model(path, ckpt), onnx_path, check=False)
        return OnnxReader(onnx_path, threads=threads)
