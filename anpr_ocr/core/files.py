"""Files the package writes and reads back: atomic saves, content hashes, weights-only loading.

Both models' checkpoints (`reader.checkpoint`, `detector.checkpoint`) are written with `save_atomic`
and read with `load_weights_only`, so a crash never leaves half a file and a checkpoint can hold no
code; a file that is not a checkpoint raises `CheckpointError` naming it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import torch


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


def load_weights_only(path: str | Path, what: str = "checkpoint") -> Any:
    """torch.load with `weights_only=True` onto the CPU; FileNotFoundError or CheckpointError name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and unpickler errors all mean "not a checkpoint"
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file: which exact checkpoint a measurement was made with."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
