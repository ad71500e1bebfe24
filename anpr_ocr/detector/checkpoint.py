"""Detector checkpoints: weights, architecture, format version, the score threshold chosen on val and, once
`detector.quantize` has added it, the net's INT8 graph, read weights-only. Reading them needs nothing of
training (`read_plates` loads detectors from here, in PyTorch or in ONNX Runtime: `detector_backend`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.files import CheckpointError, FileCache, load_weights_only, save_atomic
from ..core.onnx_runtime import DEFAULT_BACKEND, check_backend, onnx_export_available
from .net import DetectorConfig, PlateDetector, fuse_for_inference
from .onnx_backend import OnnxDetector, onnx_detector

DETECTOR_FORMAT = 1
DEFAULT_THRESHOLD = 0.4  # detector score a plate must reach, for checkpoints that store no threshold chosen on val


def save_detector(model: PlateDetector, path: str | Path, **extra: Any) -> None:
    """A detector checkpoint: weights, architecture, format version, and `extra` facts."""
    save_atomic({"format_version": DETECTOR_FORMAT, "kind": "plate_detector", "config": model.config.to_dict(),
                 "state_dict": model.state_dict(), **extra}, path)


def set_threshold(path: str | Path, threshold: float) -> None:
    """Store the detector score threshold chosen on val in a detector checkpoint (read_plates' default)."""
    ckpt = read_detector(path)
    ckpt["threshold"] = float(threshold)
    save_atomic(ckpt, path)


def detector_threshold(path: str | Path) -> float | None:
    """The score threshold stored with a detector checkpoint (None when it has none)."""
    value = read_detector(path).get("threshold")
    return None if value is None else float(value)


def load_detector(path: str | Path, ckpt: dict | None = None) -> PlateDetector:
    """A detector checkpoint (weights only) as a model in eval mode; CheckpointError names a bad file.
    `ckpt`: the checkpoint dict when the caller has read it already."""
    path = Path(path)
    ckpt = read_detector(path) if ckpt is None else ckpt
    try:
        model = PlateDetector(DetectorConfig.from_dict(ckpt["config"]))
        model.load_state_dict(ckpt["state_dict"])
    except (TypeError, KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: weights do not fit the detector its config describes: {exc}") from exc
    return model.eval()


def read_detector(path: str | Path) -> dict:
    """A detector checkpoint's dict, checked for its kind and format; CheckpointError names a bad file."""
    path = Path(path)
    ckpt = load_weights_only(path, "detector checkpoint")
    if not isinstance(ckpt, dict) or ckpt.get("kind") != "plate_detector":
        raise CheckpointError(f"{path} is not a plate detector checkpoint")
    if ckpt.get("format_version") != DETECTOR_FORMAT:
        raise CheckpointError(f"{path} has detector format {ckpt.get('format_version')}, expected {DETECTOR_FORMAT}")
    return ckpt


DETECTOR_TRAINING_STATE = ("model", "optimizer", "step", "history", "best", "epoch")  # fit_detector's last.pth


def read_detector_training_state(path: str | Path) -> dict:
    """A detector's training state (`train.detector.fit_detector` writes it as last.pth after every epoch),
    read weights-only onto the CPU; CheckpointError names a file that is not one."""
    path = Path(path)
    state = load_weights_only(path, "detector training state")
    if not isinstance(state, dict) or not set(DETECTOR_TRAINING_STATE) <= set(state):
        raise CheckpointError(f"{path} is not a detector's training state "
                              f"(needs {', '.join(DETECTOR_TRAINING_STATE)})")
    return state


_detectors: FileCache[tuple[PlateDetector | OnnxDetector, float]] = FileCache("detector checkpoint")


def set_int8_graph(path: str | Path, graph: bytes, recipe: dict) -> None:
    """Store an INT8 graph of the net (an ONNX file's bytes, `detector.quantize` makes it) and how it was made in a
    detector checkpoint, replacing any it had."""
    ckpt = read_detector(path)
    ckpt["onnx_int8"] = torch.frombuffer(bytearray(graph), dtype=torch.uint8)  # weights-only loading takes it
    ckpt["int8"] = recipe
    save_atomic(ckpt, path)


def int8_graph(ckpt: dict) -> bytes | None:
    """The INT8 graph a detector checkpoint's dict carries (`set_int8_graph`), as an ONNX file's bytes, or None."""
    graph = ckpt.get("onnx_int8")
    return None if graph is None else graph.numpy().tobytes()


def detector_backend(backend: str = DEFAULT_BACKEND) -> str:
    """What runs the detector when asked for `backend`: "torch" (PyTorch eager, FP32) or "onnx" (ONNX Runtime:
    the checkpoint's INT8 graph where it carries one, else the FP32 net exported on load). "auto" is "onnx" where
    onnx and onnxruntime import (the onnx extra) and "torch" otherwise, silently: both read the photos measured
    alike, and ONNX Runtime is faster on the CPUs measured (docs/experiments.md)."""
    check_backend(backend)
    if backend != "auto":
        return backend
    return "onnx" if onnx_export_available() else "torch"


def load_plate_detector(path: str | Path, backend: str = DEFAULT_BACKEND) -> tuple[PlateDetector | OnnxDetector, float]:
    """The detector behind a checkpoint (BatchNorm folded), run by `backend` (`detector_backend`), and its
    score threshold (the one chosen on val and stored with it, else DEFAULT_THRESHOLD), loaded once and
    cached by file version and backend. backend="onnx" without the onnx extra raises ImportError naming it."""
    runs = detector_backend(backend)
    return _detectors.get(path, lambda p: _load_for_inference(p, runs), runs)


def _load_for_inference(path: Path, backend: str) -> tuple[PlateDetector | OnnxDetector, float]:
    ckpt = read_detector(path)
    threshold = ckpt.get("threshold")
    model = fuse_for_inference(load_detector(path, ckpt))
    if backend == "onnx":
        model = onnx_detector(model, graph=int8_graph(ckpt))  # only what runs is kept
    return model, DEFAULT_THRESHOLD if threshold is None else float(threshold)
