"""Score a model on labelled crops by what `predict` reads: its default decoder at the model's temperature, unsure
crops read again from their other views (`reader.views`).

That is the one meaning of "exact match" the package reports (the eval command, the benchmark, the notebook's
tables and the model cards); greedy decoding of the same outputs is kept beside it as `greedy_exact_match`.
A checkpoint path is loaded as `predict` loads it (its stored temperature, 1.0 when it stores none); a model
in memory comes as a `Reader` with the temperature to read it at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core import metrics
from ..core.alphabet import ALPHABET
from ..core.data import Sample
from ..reader.decode import decode
from ..reader.infer import DEFAULT_BATCH_SIZE, frame_probs
from ..reader.loader import Reader, load_reader
from ..reader.predict import DEFAULT_DECODER, read_probs


@dataclass
class Evaluation:
    """Readings of a labelled set with their headline scores: `preds` as `predict` reads (or as `decoder`
    reads, when asked for another), `greedy_preds` by greedy decoding of the same model outputs."""

    truths: list[str]
    preds: list[str]
    confidences: list[float]
    sources: list[str]
    greedy_preds: list[str]
    decoder: str = DEFAULT_DECODER
    reread_unsure: bool = True

    @property
    def exact_match(self) -> float:
        """Share of crops whose reading equals the truth."""
        return metrics.exact_match(self.truths, self.preds)

    @property
    def cer(self) -> float:
        """Character error rate of the readings against the truths."""
        return metrics.cer(self.truths, self.preds)

    @property
    def greedy_exact_match(self) -> float:
        """`exact_match` of greedy decoding of the same model outputs."""
        return metrics.exact_match(self.truths, self.greedy_preds)

    def mistakes(self) -> list[int]:
        """Indices of the crops read wrong."""
        return [i for i, (t, p) in enumerate(zip(self.truths, self.preds)) if t != p]

    def summary(self) -> dict:
        """Count, decoder and headline scores, JSON-ready."""
        return {"n": len(self.truths), "decoder": self.decoder, "reread_unsure": self.reread_unsure,
                "exact_match": self.exact_match, "cer": self.cer, "greedy_exact_match": self.greedy_exact_match}


def evaluate(reader: Reader | str | Path | None, samples: list[Sample], decoder: str = DEFAULT_DECODER,
             batch_size: int = DEFAULT_BATCH_SIZE, reread_unsure: bool = True) -> Evaluation:
    """Read every sample as `predict` does and keep truth, reading, confidence and source side by side.

    `reader`: a checkpoint path (None: the committed model, as for `predict`), or a `Reader` (a model in
    memory and its temperature). Research panels that count the model's own greedy readings (`proxies`,
    `audit`) ask for decoder="greedy" and reread_unsure=False. `greedy_preds` decode each crop once."""
    if not isinstance(reader, Reader):
        reader = load_reader(reader)
    greys = [s.image for s in samples]
    probs = frame_probs(reader.model, greys, batch_size, reader.temperature)
    read = read_probs(reader, greys, probs, decoder, batch_size, reread_unsure)
    greedy = read if decoder == "greedy" and not reread_unsure else decode(probs, "greedy", ALPHABET)
    return Evaluation([s.text for s in samples], [d.text for d in read], [d.confidence for d in read],
                      [s.source for s in samples], [d.text for d in greedy], decoder, reread_unsure)
