"""The proxies a recipe is judged by besides clean exact match: the same crops tilted, trimmed and degraded.

Clean val is nearly saturated, so the rules a recipe change has been judged by also read it

- cut as the box around the crop tilted by 9, 12 and 15 degrees (`tilt`: a box detector on another
  camera), keys "tilt9", "tilt12", "tilt15";
- with 9, 11 or 13% of its width cut away on the left and 8 or 10% on the right
  (`robustness.trim_left`, `trim_right`: a box cut too tight), keys "left9" ... "right10";

each as the count of crops read exactly by greedy decoding (the decoder these proxies were set with, so
that records compare across runs), and

- four copies degraded by the training augmentation (`augment.train_augmentation(seed=123)`, no
  tilted boxes), key "degraded": [exact match, CER, number of degraded crops].

scripts/judge.py scores val by them; `anpr_ocr.research.crossval` scores every held-out fold by them.
Every proxy is deterministic, so runs compare.
"""

from __future__ import annotations

from torch import nn

from ..core.data import Sample
from ..reader.loader import Reader
from ..train.augment import apply, train_augmentation
from .evaluate import evaluate
from .robustness import degrade_samples, tilt, trim_left, trim_right

# key prefix: (degradation, strengths); each scores as "<prefix><strength>", the count of crops read exactly
PANELS = {"tilt": (tilt, (9, 12, 15)), "left": (trim_left, (9, 11, 13)), "right": (trim_right, (8, 10))}
DEGRADED_COPIES, DEGRADED_SEED = 4, 123


def proxy_scores(model: nn.Module, samples: list[Sample], copies: int = DEGRADED_COPIES,
                 seed: int = DEGRADED_SEED) -> dict:
    """{"tilt9": count, ..., "right10": count, "degraded": [exact match, CER, n]} for `model` on `samples`,
    all of greedy readings."""
    if not samples:
        raise ValueError("proxy_scores needs at least one sample")
    reader = Reader(model, 1.0)  # greedy readings do not depend on the temperature
    scores: dict = {}
    for prefix, (degrade, strengths) in PANELS.items():
        for strength in strengths:
            read = evaluate(reader, degrade_samples(samples, degrade, strength), "greedy",
                            reread_unsure=False)
            scores[f"{prefix}{strength}"] = sum(t == p for t, p in zip(read.truths, read.preds))
    augmentation = train_augmentation(seed=seed)  # one stream, drawn in this order: copy by copy, crop by crop
    degraded = [Sample(apply(augmentation, s.image), s.text, s.source) for _ in range(copies) for s in samples]
    worse = evaluate(reader, degraded, "greedy", reread_unsure=False)
    scores["degraded"] = [worse.exact_match, worse.cer, len(degraded)]
    return scores


def count_keys() -> list[str]:
    """The keys of `proxy_scores` that are counts of crops read exactly, in order."""
    return [f"{prefix}{strength}" for prefix, (_, strengths) in PANELS.items() for strength in strengths]
