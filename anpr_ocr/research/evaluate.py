"""Run a model over grey crops and score what it reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import metrics
from .alphabet import ALPHABET
from .data import Sample
from .decode import Decoded, greedy_decode, softmax
from .preprocess import batch_tensor


@torch.inference_mode()
def frame_logits(model: nn.Module, greys: list[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Per-frame class logits (N, T, C) for grey crops, in batches."""
    out = []
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    for i in range(0, len(greys), batch_size):
        out.append(model(batch_tensor(greys[i:i + batch_size]).to(device)).float().cpu().numpy())
    if not out:
        config = getattr(model, "config", None)
        return np.zeros((0, getattr(config, "time_steps", 0), getattr(config, "num_classes", 0)), np.float32)
    return np.concatenate(out)


def frame_probs(model: nn.Module, greys: list[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Per-frame class probabilities (N, T, C) for grey crops, in batches."""
    return softmax(frame_logits(model, greys, batch_size))


def read_plates(model: nn.Module, greys: list[np.ndarray], batch_size: int = 64) -> list[Decoded]:
    """Greedy readings of grey crops."""
    return greedy_decode(frame_probs(model, greys, batch_size), ALPHABET)


@dataclass
class Evaluation:
    """Readings of a labelled set with their headline scores."""

    truths: list[str]
    preds: list[str]
    confidences: list[float]
    sources: list[str]

    @property
    def exact_match(self) -> float:
        return metrics.exact_match(self.truths, self.preds)

    @property
    def cer(self) -> float:
        return metrics.cer(self.truths, self.preds)

    def mistakes(self) -> list[int]:
        return [i for i, (t, p) in enumerate(zip(self.truths, self.preds)) if t != p]

    def summary(self) -> dict[str, float]:
        return {"n": len(self.truths), "exact_match": self.exact_match, "cer": self.cer}


def evaluate(model: nn.Module, samples: list[Sample], batch_size: int = 64) -> Evaluation:
    """Read every sample and keep truth, prediction, confidence and source side by side."""
    decoded = read_plates(model, [s.image for s in samples], batch_size)
    return Evaluation([s.text for s in samples], [d.text for d in decoded],
                      [d.confidence for d in decoded], [s.source for s in samples])
