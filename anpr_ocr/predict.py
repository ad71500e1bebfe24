"""`predict`: plate images in, readings out. The one entry point for notebooks and services.

    from anpr_ocr import predict
    predict("crop.png").text            # one image in, one result out
    [r.text for r in predict([a, b])]   # a list in, a list out

Images may be paths (str or pathlib), numpy arrays as OpenCV reads them (BGR HxWx3 or grey HxW;
any numeric dtype, RGBA too) or PIL images. Models are loaded once per checkpoint and cached with
their calibrated temperature; inputs are batched. A bad input raises a ValueError (ImageError),
TypeError or OSError (FileNotFoundError, ...) whose message names it: the path, or "image 3" in
a batch. `predict` is safe to call from several threads at once.
"""

from __future__ import annotations

import math
import os
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from .alphabet import ALPHABET, to_cyrillic
from .checkpoint import CheckpointError
from .decode import DECODERS, Decoded, decode, softmax
from .formats import plate_type
from .preprocess import as_grey, batch_tensor
from .shipped import FP32_WEIGHTS

DEFAULT_WEIGHTS = FP32_WEIGHTS  # inside the installed package, or the checkout's weights/ (anpr_ocr.shipped)
# "format": it reads augmentation-degraded val best at about greedy's cost (docs/experiments.md)
DEFAULT_DECODER = "format"
# "torch": PyTorch (FP32 eager, or the frozen FX INT8 graph); "onnx": ONNX Runtime (an FP32 checkpoint exported
# on load, or the INT8 graph an INT8 checkpoint carries; pip install anpr_ocr[onnx]); "auto" (default): "torch"
# for FP32 checkpoints, and for INT8 ones whichever anpr_ocr.cpu.int8_backend picks for this CPU
BACKENDS = ("auto", "torch", "onnx")
DEFAULT_BACKEND = "auto"


@dataclass(frozen=True)
class PlateReading:
    """What the model read on one plate crop."""

    text: str  # Latin look-alikes ("A123BC77"), or Cyrillic when asked for
    confidence: float  # calibrated probability of the whole string under the model, 0..1
    char_confidences: tuple[float, ...]
    plate_type: str | None  # "private", "taxi", "trailer", "police", "motorcycle" or None
    valid: bool  # whether the text fits a GOST R 50577 format
    flagged: bool = False  # confidence below the caller's min_confidence: check this reading


class _Reader(NamedTuple):
    model: torch.nn.Module
    temperature: float
    backend: str  # what runs it: "torch" or "onnx"


_cache: dict[tuple[int, int, int, int, str], _Reader] = {}  # (device, inode, mtime, size, backend)
_cache_lock = threading.Lock()


def default_weights() -> Path:
    """The committed model, or the checkpoint named by the ANPR_OCR_WEIGHTS environment variable."""
    return Path(os.environ.get("ANPR_OCR_WEIGHTS", DEFAULT_WEIGHTS))


def _reader(weights: str | Path | None = None, backend: str = DEFAULT_BACKEND) -> _Reader:
    path = weights if weights is not None else default_weights()
    if not isinstance(path, (str, os.PathLike)):  # os.stat would take an int as a file descriptor
        raise TypeError(f"weights must be a path, got {type(path).__name__}")
    try:  # one stat names the file (however the path is spelled) and its version: cheap on every call
        st = os.stat(path)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise FileNotFoundError(f"no checkpoint at {path}")
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, backend)
    cached = _cache.get(key)  # a hit needs no lock: dict reads are atomic, and entries are never replaced
    if cached is not None:
        return cached
    path = Path(path)
    with _cache_lock:
        if key not in _cache:
            from .checkpoint import load_any

            model, ckpt = load_any(path)
            temperature = ckpt.get("temperature", 1.0)
            if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
                    or not math.isfinite(temperature) or temperature <= 0:
                raise CheckpointError(f"{path}: temperature must be a positive number, got {temperature!r}")
            runs = _resolve_backend(backend, ckpt)
            if runs == "onnx":
                model = _onnx_reader(path, model, ckpt)
            _cache[key] = _Reader(model, float(temperature), runs)
        return _cache[key]


def _resolve_backend(backend: str, ckpt: dict) -> str:
    """What "auto" means for this checkpoint: FP32 runs in torch; INT8 as anpr_ocr.cpu.int8_backend says,
    in torch when the checkpoint carries no ONNX Runtime INT8 graph."""
    if backend != "auto":
        return backend
    if ckpt.get("kind", "fp32") == "fp32" or ckpt.get("onnx_int8") is None:
        return "torch"
    from .cpu import int8_backend

    return int8_backend()


def _onnx_reader(path: Path, model: torch.nn.Module, ckpt: dict):
    """An ONNX Runtime session: the INT8 graph an INT8 checkpoint carries, or the FP32 checkpoint
    exported to ONNX on load."""
    from .onnx_backend import OnnxReader, export_onnx
    from .quantize import onnx_int8_graph

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
        export_onnx(model, onnx_path, check=False)
        return OnnxReader(onnx_path, threads=threads)


def load_reader(weights: str | Path | None = None, backend: str = DEFAULT_BACKEND) -> torch.nn.Module:
    """The model behind a checkpoint (FP32 or INT8) as `predict` runs it with `backend`, loaded once and
    cached by file and modification time."""
    return _reader(weights, backend).model


def reader_backend(weights: str | Path | None = None, backend: str = DEFAULT_BACKEND) -> str:
    """What runs a checkpoint when `predict` is asked for `backend`: "torch" or "onnx"."""
    return _reader(weights, backend).backend


def reader_temperature(weights: str | Path | None = None) -> float:
    """The calibrated temperature stored with a checkpoint (1.0 when it has none)."""
    return _reader(weights).temperature


def _check_options(alphabet: str, decoder: str, backend: str, min_confidence: float, batch_size: int) -> None:
    if alphabet not in ("latin", "cyrillic"):
        raise ValueError(f"alphabet must be 'latin' or 'cyrillic', got {alphabet!r}")
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) \
            or not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be a number in [0, 1], got {min_confidence!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def _probs(reader: _Reader, greys: list[np.ndarray]) -> np.ndarray:
    """(B, T, C) float64 frame probabilities of a batch of grey crops, at the checkpoint's calibrated
    temperature: the one place a backend plugs in. The softmax runs in numpy: after an ONNX Runtime
    call, torch's small ops measured 2x slower (0.86 -> 1.97 ms a plate with the model call)."""
    with torch.inference_mode():
        logits = reader.model(batch_tensor(greys)).cpu().numpy().astype(np.float64)
    logits /= reader.temperature
    return softmax(logits)


def read_greys(greys: list[np.ndarray], weights: str | Path | None = None, decoder: str = DEFAULT_DECODER,
               batch_size: int = 64, backend: str = DEFAULT_BACKEND) -> list[Decoded]:
    """Decoded readings (Latin, calibrated confidences) of grey uint8 crops: predict's core."""
    reader = _reader(weights, backend)
    out: list[Decoded] = []
    for start in range(0, len(greys), batch_size):
        out.extend(decode(_probs(reader, greys[start:start + batch_size]), decoder, ALPHABET))
    return out


def predict(images: Any, weights: str | Path | None = None, alphabet: str = "latin",
            decoder: str = DEFAULT_DECODER, min_confidence: float = 0.5, batch_size: int = 64,
            backend: str = DEFAULT_BACKEND) -> PlateReading | list[PlateReading]:
    """Read plate crops. One image gives one `PlateReading`, a list or tuple gives a list.

    `weights` selects a checkpoint (default: the committed best model, or $ANPR_OCR_WEIGHTS);
    `alphabet="cyrillic"` returns the Cyrillic letters printed on the plate instead of their Latin
    look-alikes; `decoder` is "format" (default: beam search preferring a GOST R 50577 plate when
    the model finds one nearly as likely; the most accurate on val), "beam" (CTC prefix beam
    search: the most probable string) or "greedy" (best path; fastest). `confidence` is the
    probability of the whole string, with the checkpoint's calibrated temperature applied;
    readings under `min_confidence` are returned with `flagged=True`, never dropped.
    `backend`: "auto" (default) runs an FP32 checkpoint in PyTorch and an INT8 one in the INT8
    backend that is faster on this CPU (`anpr_ocr.cpu`: ONNX Runtime without VNNI, FX with it; FX
    when onnxruntime is not installed); "torch" or "onnx" choose (ONNX Runtime runs an FP32
    checkpoint exported on load, or an INT8 checkpoint's own INT8 graph; `pip install anpr_ocr[onnx]`).
    """
    _check_options(alphabet, decoder, backend, min_confidence, batch_size)
    single = not isinstance(images, (list, tuple))
    items: Sequence[Any] = [images] if single else images
    greys = [as_grey(img, _input_name(img, i, single)) for i, img in enumerate(items)]
    if not greys:
        return []
    readings = []
    for d in read_greys(greys, weights, decoder, batch_size, backend):
        kind = plate_type(d.text)
        text = to_cyrillic(d.text) if alphabet == "cyrillic" else d.text
        confidence = min(max(d.confidence, 0.0), 1.0)
        readings.append(PlateReading(text, confidence, d.char_confidences, kind, kind is not None,
                                     confidence < min_confidence))
    return readings[0] if single else readings


def _input_name(image: Any, index: int, single: bool) -> str:
    if single:
        return str(image) if isinstance(image, (str, os.PathLike)) else "image"
    return f"image {index}"
