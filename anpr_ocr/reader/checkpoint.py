"""Checkpoints: a state dict plus everything needed to rebuild the model, loaded weights-only."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .alphabet import ALPHABET
from .model import CRNN, CRNNConfig

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a checkpoint this package can use; the message names the file."""


def save_atomic(obj: Any, path: str | Path) -> None:
    """torch.save to a temporary file beside `path`, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file: which exact checkpoint a measurement was made with."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_dict(model: CRNN, kind: str = "fp32", **extra: Any) -> dict:
    """What a checkpoint holds: weights, config, alphabet, input size, format version."""
    config = model.config
    return {"format_version": FORMAT_VERSION, "kind": kind, "config": config.to_dict(),
            "alphabet": config.alphabet, "input_size": [config.height, config.width],
            "state_dict": model.state_dict(), **extra}


def save_checkpoint(model: CRNN, path: str | Path, **extra: Any) -> None:
    save_atomic(checkpoint_dict(model, **extra), path)


def read_checkpoint(path: str | Path) -> dict:
    """Load and validate a checkpoint dict with `weights_only=True`; raise CheckpointError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and unpickler errors all mean "not a checkpoint"
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "config" not in ckpt:
        raise CheckpointError(f"{path} is not an anpr_ocr checkpoint (no state_dict and config)")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format {ckpt.get('format_version')}, expected {FORMAT_VERSION}")
    if ckpt.get("alphabet") != ALPHABET:
        raise CheckpointError(f"{path} was trained for alphabet {ckpt.get('alphabet')!r}, "
                              f"this package uses {ALPHABET!r}")
    try:
        config = CRNNConfig.from_dict(ckpt["config"])
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed model config: {exc}") from exc
    if list(ckpt.get("input_size", [])) != [config.height, config.width]:
        raise CheckpointError(f"{path}: input size {ckpt.get('input_size')} does not match its config")
    return ckpt


def load_model(path: str | Path, ckpt: dict | None = None) -> CRNN:
    """Rebuild an FP32 CRNN from a checkpoint, in eval mode (`ckpt`: the dict, if read already)."""
    ckpt = read_checkpoint(path) if ckpt is None else ckpt
    if ckpt.get("kind", "fp32") != "fp32":
        raise CheckpointError(f"{path} holds a {ckpt['kind']} model; load it with anpr_ocr.quantize.load_quantized")
    model = CRNN(CRNNConfig.from_dict(ckpt["config"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the model its config describes: {exc}") from exc
    return model.eval()


def load_any(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Any anpr_ocr checkpoint, FP32 or FX INT8, read once: (model in eval mode, checkpoint dict).

    An INT8 file is rebuilt by `anpr_ocr.quantize.load_quantized` (imported here, as quantize imports
    this module).
    """
    from .quantize import _fx_deprecations_silenced, load_quantized

    with _fx_deprecations_silenced():  # reading quantized tensors trips FX's deprecation notices
        ckpt = read_checkpoint(path)
    if ckpt.get("kind", "fp32") == "fp32":
        return load_model(path, ckpt), ckpt
    return load_quantized(path, ckpt), ckpt
