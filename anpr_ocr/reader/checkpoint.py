"""Checkpoints: a state dict plus everything needed to rebuild the model, loaded weights-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.alphabet import ALPHABET
from ..core.files import CheckpointError, load_weights_only, save_atomic
from .model import CRNN, CRNNConfig

FORMAT_VERSION = 1


def checkpoint_dict(model: CRNN, kind: str = "fp32", **extra: Any) -> dict:
    """What a checkpoint holds: weights, config, alphabet, input size, format version."""
    return weights_dict(model.config, model.state_dict(), kind, **extra)


def weights_dict(config: CRNNConfig, state_dict: dict, kind: str, **extra: Any) -> dict:
    """`checkpoint_dict` for weights of any kind of model built from `config` (an FX INT8 model's too)."""
    return {"format_version": FORMAT_VERSION, "kind": kind, "config": config.to_dict(),
            "alphabet": config.alphabet, "input_size": [config.height, config.width],
            "state_dict": state_dict, **extra}


def save_checkpoint(model: CRNN, path: str | Path, **extra: Any) -> None:
    """Write `checkpoint_dict` of `model` (with `extra` facts) to `path` atomically."""
    save_atomic(checkpoint_dict(model, **extra), path)


def read_checkpoint(path: str | Path) -> dict:
    """Load and validate a checkpoint dict with `weights_only=True`; raise CheckpointError if it is not one."""
    path = Path(path)
    ckpt = load_weights_only(path)
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
        raise CheckpointError(f"{path} holds a {ckpt['kind']} model; load it with "
                              "anpr_ocr.reader.quantize.load_quantized")
    model = CRNN(CRNNConfig.from_dict(ckpt["config"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the model its config describes: {exc}") from exc
    return model.eval()



TRAINING_STATE = ("model", "optimizer", "scheduler", "history", "best", "epoch")  # what fit's last.pth holds


def read_training_state(path: str | Path) -> dict:
    """A reader's training state (`train.reader.fit` writes it as last.pth after every epoch: the weights under
    "model", optimiser, schedule, history, best, epoch, random state), read weights-only onto the CPU;
    CheckpointError names a file that is not one."""
    path = Path(path)
    state = load_weights_only(path, "training state")
    if not isinstance(state, dict) or not set(TRAINING_STATE) <= set(state):
        raise CheckpointError(f"{path} is not a reader's training state (needs {', '.join(TRAINING_STATE)})")
    return state


def load_training_model(path: str | Path, config: CRNNConfig) -> CRNN:
    """The model of a training state (last.pth stores weights, not the architecture: `config` gives it), in
    eval mode."""
    model = CRNN(config)
    try:
        model.load_state_dict(read_training_state(path)["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the model {config} describes: {exc}") from exc
    return model.eval()
