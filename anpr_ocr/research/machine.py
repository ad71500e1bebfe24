"""Where a number was measured: the CPU's name and the software around a measurement."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import torch

from ..core.cpu import cpu_features


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux; platform.processor() elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """Python, torch, the machine, the CPU and torch's thread count, and the GPU's name where torch sees
    one: stored beside a measurement or a training run."""
    gpu = {"gpu": torch.cuda.get_device_name()} if torch.cuda.is_available() else {}
    return {"python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine(),
            "processor": cpu_name(), "threads": torch.get_num_threads(), **gpu}


def module_version(module: str) -> str | None:
    """An installed module's `__version__` (None where it does not import): an optional extra's, on a record."""
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def created_now() -> str:
    """The time a record or a card is written, as they all state it (UTC, to the minute)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def measured_here() -> dict:
    """Where and when a measurement ran, to store beside it: `environment()`, the CPU's features and the UTC time."""
    return {"environment": environment(), "cpu": cpu_features(),
            "created": created_now()}
