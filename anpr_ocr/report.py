"""Tables and JSON records the notebook writes: recipe comparison, model cards, breakdowns."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from . import metrics
from .data import Sample
from .evaluate import Evaluation, evaluate


def write_json(path: str | Path, obj) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def scores(model: torch.nn.Module, splits: dict[str, list[Sample]], names=("val", "test")) -> dict[str, dict]:
    """Exact match and CER of a model on each named split."""
    return {name: evaluate(model, splits[name]).summary() for name in names if splits.get(name)}


def recipe_row(name: str, model: torch.nn.Module, splits: dict[str, list[Sample]], wall_seconds: float,
               seed: int, epochs: str) -> dict:
    """One row of the recipe comparison: val and test exact match and CER, wall time, seed."""
    s = scores(model, splits)
    return {"recipe": name, "epochs": epochs, "seed": seed, "wall_minutes": round(wall_seconds / 60, 1),
            "val_exact_match": s["val"]["exact_match"], "val_cer": s["val"]["cer"],
            "test_exact_match": s["test"]["exact_match"], "test_cer": s["test"]["cer"]}


def narrowest_quarter(samples: list[Sample]) -> list[Sample]:
    """The quarter of the crops with the smallest width in pixels: the low-resolution cases."""
    ordered = sorted(samples, key=lambda s: s.image.shape[1])
    return ordered[: max(1, len(ordered) // 4)]


def breakdown(ev: Evaluation) -> dict[str, dict]:
    """Exact match and CER per plate format and region length, and per label length."""
    return {"format": metrics.grouped(ev.truths, ev.preds), "length": metrics.by_length(ev.truths, ev.preds)}


def environment() -> dict:
    """Where a number was measured."""
    return {"python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
