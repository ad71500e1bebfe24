"""Confidence calibration: a temperature for the logits, and tables to check what it achieves.

`predict` reports the probability of the whole string under the CTC model. A network trained with
CTC is usually over- or under-confident, so that probability is softened or sharpened by one
temperature T (logits / T before the softmax) so that "confidence 0.9" means "right about 9 times
in 10". `fit_temperature` fits T on labelled logits (a pure function: no model, no files): the
notebook fits it on the out-of-fold logits of cross-validation (on val when it runs without), never
on test, and stores it in the checkpoint under "temperature", which `predict` applies. `reliability`
and `coverage_curve` are the tables that check it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..core.alphabet import ALPHABET
from ..reader.decode import ctc_log_likelihood, decode, softmax

DEFAULT_GRID = tuple(float(t) for t in np.geomspace(0.25, 8.0, 71))  # about 5% apart
_EPS = 1e-6


def readings_at(logits: np.ndarray, temperature: float, decoder: str = "greedy") -> tuple[list[str], np.ndarray]:
    """Texts and string confidences that `predict` would give at this temperature."""
    decoded = decode(softmax(np.asarray(logits, np.float64) / temperature), decoder, ALPHABET)
    return [d.text for d in decoded], np.array([d.confidence for d in decoded])


def correctness_nll(confidences: np.ndarray, correct: np.ndarray) -> float:
    """Mean negative log-likelihood of "the reading is correct" under the stated confidences."""
    p = np.clip(np.asarray(confidences, np.float64), _EPS, 1 - _EPS)
    c = np.asarray(correct, bool)
    return float(-np.mean(np.where(c, np.log(p), np.log1p(-p))))


MIN_EACH = 20  # "auto" fits correctness only with at least this many right and this many wrong readings


def fit_temperature(logits: np.ndarray, truths: list[str], objective: str = "auto",
                    decoder: str = "greedy", grid: tuple[float, ...] = DEFAULT_GRID) -> float:
    """The temperature from `grid` that best calibrates string confidences on labelled logits.

    logits: (N, T, C) raw model outputs for N labelled crops; truths: their Latin labels.
    objective="correct" minimises the NLL of "reading is correct" given the string confidence of
    the `decoder`'s reading: exactly what `PlateReading.confidence` claims. It needs both right and
    wrong readings; when every reading is right (or every one wrong) nothing can be learnt and 1.0
    is returned. With a good model and a small val split it rests on a handful of errors and
    overfits them. objective="ctc" minimises the mean CTC loss (negative log-probability) of the
    true strings: classic temperature scaling of the output distribution, using every sample.
    objective="auto" (default) uses "correct" when the readings at T=1 hold at least MIN_EACH
    right and MIN_EACH wrong ones, else "ctc"; with no wrong reading at all it returns 1.0 (both
    objectives would only sharpen towards the grid's lower edge). A pure function: no model, no files.
    """
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 3 or len(truths) != logits.shape[0] or not truths:
        raise ValueError(f"need (N, T, C) logits and N >= 1 truths, got {logits.shape} and {len(truths)}")
    if not grid or min(grid) <= 0:
        raise ValueError("the temperature grid must hold positive values")
    truths = list(truths)
    if objective == "auto":
        texts, _ = readings_at(logits, 1.0, decoder)
        wrong = sum(a != b for a, b in zip(texts, truths))
        if wrong == 0 or wrong == len(truths):
            return 1.0  # nothing to learn: either objective would just run to the grid's edge
        objective = "correct" if min(wrong, len(truths) - wrong) >= MIN_EACH else "ctc"
    if objective == "ctc":
        losses = [-float(np.mean(ctc_log_likelihood(softmax(logits / t), truths))) for t in grid]
        return float(grid[int(np.argmin(losses))])
    if objective != "correct":
        raise ValueError(f"objective must be 'correct' or 'ctc', got {objective!r}")
    losses = []
    for t in grid:
        texts, confidences = readings_at(logits, t, decoder)
        correct = np.array([a == b for a, b in zip(texts, truths)])
        if correct.all() or not correct.any():
            if decoder == "greedy":  # greedy texts do not depend on the temperature
                return 1.0
            losses.append(np.inf)
            continue
        losses.append(correctness_nll(confidences, correct))
    if not np.isfinite(losses).any():
        return 1.0
    return float(grid[int(np.argmin(losses))])


def reliability(confidences: ArrayLike, correct: ArrayLike, bins: int = 10) -> list[dict]:
    """Reliability table: for equal-width confidence bins, count, mean confidence and accuracy.

    Returns one dict per non-empty bin: {"lo", "hi", "n", "confidence", "accuracy"}. A calibrated
    model has accuracy close to confidence in every bin.
    """
    conf, corr = _pair(confidences, correct)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for k in range(bins):
        mask = which == k
        if mask.any():
            rows.append({"lo": float(edges[k]), "hi": float(edges[k + 1]), "n": int(mask.sum()),
                         "confidence": float(conf[mask].mean()), "accuracy": float(corr[mask].mean())})
    return rows


def coverage_curve(confidences: ArrayLike, correct: ArrayLike) -> list[tuple[float, float, float]]:
    """Accuracy against coverage: for each distinct confidence as a threshold (high to low),
    (threshold, share of readings at or above it, accuracy of those readings)."""
    conf, corr = _pair(confidences, correct)
    order = np.argsort(-conf, kind="stable")
    conf, corr = conf[order], corr[order]
    hits = np.cumsum(corr)
    out = []
    n = len(conf)
    for i in range(n):
        if i + 1 < n and conf[i + 1] == conf[i]:
            continue  # report each threshold once, with everything tied at it included
        out.append((float(conf[i]), (i + 1) / n, float(hits[i] / (i + 1))))
    return out


def _pair(confidences, correct) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidences, np.float64).ravel()
    corr = np.asarray(correct, bool).ravel()
    if conf.shape != corr.shape or conf.size == 0:
        raise ValueError(f"need equally many confidences and correctness flags, at least one "
                         f"(got {conf.size} and {corr.size})")
    if not np.isfinite(conf).all() or conf.min() < 0 or conf.max() > 1:
        raise ValueError("confidences must lie in [0, 1]")
    return conf, corr
