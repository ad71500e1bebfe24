"""Label audit: crops that models which never saw their labels all read as another plate.

A synthetic-only model (`fit` writes it as best_pretrain.pth) has seen no real label. Where it, or
better several of them, reads a real crop as a valid plate string other than the crop's label, the
label is suspect: it is worth a look before the crop trains or scores a model. Agreement of several
models is the filter, because one model's confidence separates its own misreadings from wrong
labels poorly.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..core.data import Sample
from ..core.formats import plate_type
from ..reader.loader import Reader
from .evaluate import evaluate


@dataclass(frozen=True)
class Suspect:
    """A crop whose label every model contradicts with the same valid plate string."""

    index: int
    source: str
    label: str
    reading: str


def contradicted_labels(models: list[nn.Module], samples: list[Sample]) -> list[Suspect]:
    """The samples every model reads alike, as a valid plate string that differs from the label. The models
    read greedily: the format-aware decoder leans towards valid plates, and would make up the very
    readings this looks for."""
    if not models:
        raise ValueError("contradicted_labels needs at least one model")
    readings = [evaluate(Reader(model, 1.0), samples, "greedy", reread_unsure=False).preds for model in models]
    suspects = []
    for i, sample in enumerate(samples):
        read = {r[i] for r in readings}
        if len(read) == 1:
            (reading,) = read
            if reading != sample.text and plate_type(reading) is not None:
                suspects.append(Suspect(i, sample.source, sample.text, reading))
    return suspects
