"""Run a model over grey crops and score what it reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from ..core import metrics
from ..core.alphabet import ALPHABET
from ..core.data import Sample
from ..reader.decode import Decoded, greedy_decode
from ..reader.infer import frame_probs


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
