"""CTC decoding: per-frame class scores to plate strings, with a confidence for each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .alphabet import ALPHABET, BLANK


@dataclass(frozen=True)
class Decoded:
    """A decoded string, the probability of that reading, and one probability per character."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def greedy_decode(probs: np.ndarray, alphabet: str = ALPHABET) -> list[Decoded]:
    """Best class per frame, repeats merged, blanks dropped; vectorised over a (B, T, C) batch.

    A character's confidence is the highest probability among the frames that emitted it; the
    string's confidence is the product of the best-path probabilities of all frames.
    """
    best = probs.argmax(axis=-1)  # (B, T)
    best_p = np.take_along_axis(probs, best[..., None], axis=-1)[..., 0]
    starts = np.ones_like(best, dtype=bool)
    starts[:, 1:] = best[:, 1:] != best[:, :-1]
    emit = starts & (best != BLANK)
    path_confidence = np.exp(np.log(np.clip(best_p, 1e-12, 1.0)).sum(axis=1))
    # run id per frame, so each emitted character takes the max probability over its run
    run_id = np.cumsum(starts, axis=1)
    results = []
    for b in range(best.shape[0]):
        chars = best[b, emit[b]]
        runs = run_id[b, emit[b]]
        per_char = [float(best_p[b, run_id[b] == r].max()) for r in runs]
        text = "".join(alphabet[c - 1] for c in chars)
        results.append(Decoded(text, float(path_confidence[b]), tuple(per_char)))
    return results
