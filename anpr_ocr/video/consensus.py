"""One text for a track from all of its readings, weighted by what the reader says of each.

A plate followed over many frames is read many times, mostly the same, sometimes a character off
(blur, a small plate, a frame caught mid-pan). `weighted` treats each reading as independent
evidence about each character: a reading that puts character x at a position with per-character
confidence p says "x with probability p, each of the other K-1 classes with (1-p)/(K-1)". Summing
the logs of those probabilities over the readings scores every character at every position (naive
Bayes over frames), so a sure reading outweighs several unsure ones that disagree with it, and a
character read wrong in a few frames is outvoted character by character, even where no single
frame read the whole string right.
- The length is the one whose readings carry the most confidence (the string probabilities summed).
- The candidates are the per-position best characters put together and every string of that length
  read; each is scored by the summed logs above. When any candidate is a valid plate (GOST R 50577,
  `formats.plate_type`), only valid ones compete, as the reader's format-aware decoder prefers them.
- The confidence is the chosen characters' posterior with the evidence averaged over the readings
  (so a single reading's confidence is the product of its character confidences, not inflated by
  frames that are near copies of each other), times the length's share of the confidence.

The two baselines it is measured against (`research.video_eval`): `best_frame`, the single most
confident reading, and `majority`, the string read most often. All three are pure functions of
readings with `text`, `confidence` and `char_confidences` (a `PhotoReading`, a `PlateReading`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from ..core.alphabet import ALPHABET
from ..core.formats import plate_type

CLASSES = len(ALPHABET)  # K: the characters a position can hold
EPS = 1e-3  # character confidences are clipped to [EPS, 1 - EPS]: no single frame is ever certain


class Reading(Protocol):
    text: str
    confidence: float
    char_confidences: tuple[float, ...]


class Verdict(NamedTuple):
    text: str
    confidence: float


def char_weights(reading: Reading) -> list[float]:
    """The reading's per-character confidences, clipped; its string confidence where they are missing."""
    chars = reading.char_confidences
    if len(chars) != len(reading.text):
        chars = (reading.confidence,) * len(reading.text)
    return [min(max(float(p), EPS), 1 - EPS) for p in chars]


def position_scores(readings: Sequence[Reading], length: int, classes: int = CLASSES) -> list[dict[str, float]]:
    """For each position of strings of `length`: the summed log-probability of each character read
    there, and of any character not read there (key ""), over the readings of that length."""
    same = [r for r in readings if len(r.text) == length]
    weights = [char_weights(r) for r in same]
    out = []
    for j in range(length):
        against = sum(math.log((1 - w[j]) / (classes - 1)) for w in weights)  # every reading votes for another
        scores = {"": against}  # "": any character no reading put here
        for r, w in zip(same, weights):
            c = r.text[j]
            scores[c] = scores.get(c, against) + math.log(w[j]) - math.log((1 - w[j]) / (classes - 1))
        out.append(scores)
    return out


def weighted(readings: Sequence[Reading], classes: int = CLASSES) -> Verdict:
    """The track's text by per-character confidence-weighted voting (see the module docstring)."""
    readings = [r for r in readings if r.text]
    if not readings:
        return Verdict("", 0.0)
    by_length: dict[int, float] = defaultdict(float)
    for r in readings:
        by_length[len(r.text)] += r.confidence
    length = max(by_length, key=by_length.__getitem__)  # the first read of equals
    scores = position_scores(readings, length, classes)
    composite = "".join(max((c for c in s if c), key=s.__getitem__) for s in scores)  # first read of equals
    candidates = sorted({composite} | {r.text for r in readings if len(r.text) == length})
    valid = [s for s in candidates if plate_type(s) is not None]
    text = max(valid or candidates, key=lambda s: sum(scores[j][c] for j, c in enumerate(s)))
    n = sum(1 for r in readings if len(r.text) == length)
    confidence = by_length[length] / sum(by_length.values())
    for j, c in enumerate(text):
        confidence *= posterior(scores[j], c, n, classes)
    return Verdict(text, confidence)


def posterior(scores: dict[str, float], char: str, n: int, classes: int = CLASSES) -> float:
    """P(char) at one position with the summed log-probabilities averaged over the `n` readings."""
    unseen = classes - (len(scores) - 1)
    top = max(scores.values())
    z = sum(math.exp((v - top) / n) for c, v in scores.items() if c) + unseen * math.exp((scores[""] - top) / n)
    return math.exp((scores.get(char, scores[""]) - top) / n) / z


def best_frame(readings: Sequence[Reading]) -> Verdict:
    """Baseline: the single most confident reading (the first of equals)."""
    readings = [r for r in readings if r.text]
    if not readings:
        return Verdict("", 0.0)
    best = max(readings, key=lambda r: r.confidence)
    return Verdict(best.text, best.confidence)


def majority(readings: Sequence[Reading]) -> Verdict:
    """Baseline: the string read most often (the first read of equals); confidence = its share of the readings."""
    texts = [r.text for r in readings if r.text]
    if not texts:
        return Verdict("", 0.0)
    counts = Counter(texts)  # insertion-ordered: max keeps the first of equal counts
    text = max(counts, key=lambda t: counts[t])
    return Verdict(text, counts[text] / len(texts))


METHODS: dict[str, Callable[[Sequence[Reading]], Verdict]] = {
    "weighted": weighted, "best_frame": best_frame, "majority": majority}
