"""Metrics as pure functions over lists of (truth, prediction) strings.

Scoring (exact match, CER) needs nothing beyond the standard library, so `anpr-ocr eval` runs on the
reading dependencies alone; the confusion matrix aligns strings with rapidfuzz (the `train` extra).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np

from .formats import format_key

GAP = "∅"  # the confusion matrix's row and column for a missing or an extra character


def exact_match(truths: list[str], preds: list[str]) -> float:
    """Share of plates read exactly."""
    _check(truths, preds)
    return sum(t == p for t, p in zip(truths, preds)) / len(truths)


def cer(truths: list[str], preds: list[str]) -> float:
    """Character error rate: total edit distance over total truth length."""
    _check(truths, preds)
    return sum(edit_distance(t, p) for t, p in zip(truths, preds)) / sum(len(t) for t in truths)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning a into b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ca != cb))
    return row[-1]


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval of a share measured as `successes` out of `n` (95% for the default z).

    How far an exact match measured on n crops may sit from the rate on plates like them: on the
    102 test crops one plate is about 1 pp, and the interval spans several. Unlike p +- z*se it
    stays inside [0, 1] and is not empty at 0 or n successes.
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (0.0 if successes == 0 else centre - half), (1.0 if successes == n else centre + half)  # exact at the ends


def confusion_counts(truths: list[str], preds: list[str]) -> Counter:
    """Counts of (truth char, predicted char) from aligned edit operations.

    Matches and substitutions pair the two characters; a deletion pairs the truth char with GAP,
    an insertion pairs GAP with the predicted char.
    """
    from rapidfuzz.distance import Levenshtein  # the train extra: only the notebook's confusion matrix aligns

    _check(truths, preds)
    counts: Counter = Counter()
    for t, p in zip(truths, preds):
        for tag, i1, i2, j1, j2 in Levenshtein.opcodes(t, p).as_list():
            if tag in ("equal", "replace"):
                counts.update(zip(t[i1:i2], p[j1:j2]))
            elif tag == "delete":
                counts.update((c, GAP) for c in t[i1:i2])
            else:
                counts.update((GAP, c) for c in p[j1:j2])
    return counts


def confusion_matrix(truths: list[str], preds: list[str], alphabet: str) -> tuple[np.ndarray, list[str]]:
    """A (K+1)x(K+1) matrix, rows truth, columns prediction, over the alphabet plus GAP."""
    labels = list(alphabet) + [GAP]
    index = {c: i for i, c in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for (t, p), n in confusion_counts(truths, preds).items():
        matrix[index[t], index[p]] += n
    return matrix, labels


def grouped(truths: list[str], preds: list[str], key: Callable[[str], str] = format_key) -> dict[str, dict[str, float]]:
    """Exact match, CER and count per group of the truth (plate format by default)."""
    _check(truths, preds)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(truths):
        groups[key(t)].append(i)
    out = {}
    for name, idx in sorted(groups.items()):
        t = [truths[i] for i in idx]
        p = [preds[i] for i in idx]
        out[name] = {"n": len(idx), "exact_match": exact_match(t, p), "cer": cer(t, p)}
    return out


def by_length(truths: list[str], preds: list[str]) -> dict[str, dict[str, float]]:
    """Exact match, CER and count per label length."""
    return grouped(truths, preds, key=lambda t: str(len(t)))


def _check(truths: list[str], preds: list[str]) -> None:
    if len(truths) != len(preds) or not truths:
        raise ValueError(f"need equally many truths and predictions, at least one (got {len(truths)}, {len(preds)})")
