"""Score a checkpoint on val the way every rule in figures/rejected/README.md was judged (never test).

    python scripts/judge.py DATA_ROOT CHECKPOINT [INT8_CHECKPOINT]

Prints one JSON line:
- "val": exact match and CER on the real val crops;
- "tilt9", "tilt12", "tilt15": val crops read exactly when cut as the box around the crop tilted by
  that many degrees (`robustness.tilt`), as counts;
- "degraded": exact match and CER on four copies of val degraded by the training augmentation
  (`augment.train_augmentation(seed=123)`, no tilted boxes), 404 crops for the 101 of VKCV;
- "int8_val": exact match and CER of the FX INT8 model on val: INT8_CHECKPOINT if given, else the
  checkpoint quantized here as the notebook does (calibrated on the first 256 train crops).
"""

import json
import sys
import warnings

import torch

from anpr_ocr.augment import apply, train_augmentation
from anpr_ocr.checkpoint import load_model
from anpr_ocr.data import Sample, load_splits
from anpr_ocr.evaluate import evaluate
from anpr_ocr.quantize import load_quantized, quantize_fx
from anpr_ocr.robustness import degrade_samples, tilt

TILTS = (9, 12, 15)
DEGRADED_COPIES, DEGRADED_SEED = 4, 123


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    root, checkpoint = sys.argv[1:3]
    warnings.filterwarnings("ignore", module="albumentations")
    torch.set_num_threads(2)
    splits, _ = load_splits(root, ("train", "val"))
    val = splits["val"]
    model = load_model(checkpoint).eval()
    scores = {}
    clean = evaluate(model, val)
    scores["val"] = [clean.exact_match, clean.cer]
    for degrees in TILTS:
        scores[f"tilt{degrees}"] = round(evaluate(model, degrade_samples(val, tilt, degrees)).exact_match * len(val))
    augmentation = train_augmentation(seed=DEGRADED_SEED)
    degraded = [Sample(apply(augmentation, s.image), s.text, s.source) for _ in range(DEGRADED_COPIES) for s in val]
    worse = evaluate(model, degraded)
    scores["degraded"] = [worse.exact_match, worse.cer, len(degraded)]
    int8 = load_quantized(sys.argv[3]) if len(sys.argv) == 4 else quantize_fx(
        model, [s.image for s in splits["train"][:256]])
    quantized = evaluate(int8, val)
    scores["int8_val"] = [quantized.exact_match, quantized.cer]
    print(json.dumps(scores))


if __name__ == "__main__":
    main()
