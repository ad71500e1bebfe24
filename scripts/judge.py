"""Score a checkpoint on val the way every rule in docs/experiments.md was judged (never test).

    python scripts/judge.py DATA_ROOT CHECKPOINT [--int8 INT8_CHECKPOINT] [--out FILE.json]

Prints one JSON line, and writes it to FILE.json when asked:
- "val": exact match and CER of greedy readings on the real val crops (the rules were set on greedy decoding;
  `predict` and `anpr-ocr eval` read with the format-aware decoder);
- the proxies of `anpr_ocr.research.proxies` on val: "tilt9", "tilt12", "tilt15", "left9", "left11", "left13",
  "right8", "right10" (counts of crops read exactly when tilted or trimmed), "degraded" (exact match,
  CER and count of four copies degraded by the training augmentation: 404 crops for the 101 of VKCV);
- "int8_val": exact match and CER of the FX INT8 model's greedy readings on val: --int8 if given, else the
  checkpoint quantized here as the notebook does (calibrated on the first 256 train crops).
"""

import argparse
import json
import warnings
from pathlib import Path

import torch

from anpr_ocr.core.data import load_splits
from anpr_ocr.reader.checkpoint import load_model
from anpr_ocr.reader.loader import Reader
from anpr_ocr.reader.quantize import load_quantized, quantize_fx
from anpr_ocr.research.evaluate import evaluate
from anpr_ocr.research.proxies import proxy_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_root", help="Nomeroff-layout root with train/ and val/")
    parser.add_argument("checkpoint", help="FP32 checkpoint to judge")
    parser.add_argument("--int8", help="its FX INT8 checkpoint (default: quantize it here)")
    parser.add_argument("--out", type=Path, help="also write the scores to this JSON file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="albumentations")
    torch.set_num_threads(2)
    splits, _ = load_splits(args.data_root, ("train", "val"))
    val = splits["val"]
    model = load_model(args.checkpoint).eval()
    scores = {"checkpoint": args.checkpoint}
    clean = evaluate(Reader(model, 1.0), val, "greedy", reread_unsure=False)
    scores["val"] = [clean.exact_match, clean.cer]
    scores.update(proxy_scores(model, val))
    int8 = load_quantized(args.int8) if args.int8 else quantize_fx(model, [s.image for s in splits["train"][:256]])
    quantized = evaluate(Reader(int8, 1.0), val, "greedy", reread_unsure=False)
    scores["int8_val"] = [quantized.exact_match, quantized.cer]
    line = json.dumps(scores)
    print(line)
    if args.out:
        args.out.write_text(line + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
