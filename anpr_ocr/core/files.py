"""Files the package writes and reads back: JSON records, atomic saves, content hashes, weights-only loading.

Both models' checkpoints (`reader.checkpoint`, `detector.checkpoint`) are written with `save_atomic`
and read with `load_weights_only`, so a crash never leaves half a file and a checkpoint can hold no
code; a file that is not a checkpoint raises `CheckpointError` naming it. `FileCache` keeps what was
loaded from a file until the file changes: both models are loaded once per checkpoint through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch


class CheckpointError(ValueError):
    """A file that is not a checkpoint this package can use; the message names the file."""


def write_json(path: str | Path, obj: Any) -> Path:
    """`obj` as indented JSON (UTF-8, non-ASCII kept) at `path`, its folder made first: every figure and card."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


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


T = TypeVar("T")


class FileCache(Generic[T]):
    """What `load` made of a file, kept per file version: (device, inode, modification time, size) from one
    `os.stat`, so a file rewritten in place is loaded again and a hit costs a stat and a dict look-up.
    Safe from several threads; `load` runs once per version (and `extra` key)."""

    def __init__(self, what: str = "checkpoint"):
        """An empty cache; `what` names the kind of file in error messages."""
        self.what = what
        self._entries: dict[tuple, T] = {}
        self._lock = threading.Lock()

    def get(self, path: str | os.PathLike, load: Callable[[Path], T], extra: Hashable = None) -> T:
        """What `load` makes of the file at `path` in its current version, loaded once per version and `extra`."""
        if not isinstance(path, (str, os.PathLike)):  # os.stat would take an int as a file descriptor
            raise TypeError(f"{self.what} must be a path, got {type(path).__name__}")
        try:  # one stat names the file (however the path is spelled) and its version
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(f"no {self.what} at {path}")
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, extra)
        cached = self._entries.get(key)  # a hit needs no lock: dict reads are atomic, entries never replaced
        if cached is not None:
            return cached
        with self._lock:
            if key not in self._entries:
                self._entries[key] = load(Path(path))
            return self._entries[key]
