"""Read each cross-validation fold's held-out crops with its FP32 model and that model in INT8.

    python scripts/int8_oof.py DATA_ROOT RECORD RUN_DIR [--out OUT.json]
    python scripts/int8_oof.py ../shared/data/vkcv-ocr experiments/cv/committed_seed1.json \
        runs/cv/committed/seed1 --out experiments/int8_oof/committed_seed1.json

RECORD is a seed's record from scripts/cv.py and RUN_DIR its run folder (with fold<i>/last.pth); DATA_ROOT
holds the train and val crops it ran on. See anpr_ocr.research.int8_oof.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr.core.data import load_splits
from anpr_ocr.research.int8_oof import int8_out_of_fold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_root", help="Nomeroff-layout root with train/ and val/")
    parser.add_argument("record", type=Path, help="a seed's record from scripts/cv.py")
    parser.add_argument("run_dir", type=Path, help="that seed's run folder (fold<i>/last.pth)")
    parser.add_argument("--out", type=Path, help="where to write the result (JSON)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    record = json.loads(args.record.read_text(encoding="utf-8"))
    splits, _ = load_splits(args.data_root, ("train", "val"))
    samples = [s for name in ("train", "val") for s in splits[name]]
    result = int8_out_of_fold(record, args.run_dir, samples)
    for name in ("fp32", "int8_fx", "int8_onnx"):
        if name in result:
            r = result[name]
            extra = f", {r['differs_from_fp32']} read otherwise than FP32" if "differs_from_fp32" in r else ""
            print(f"{name}: out-of-fold exact match {100 * r['exact_match']:.2f}%, CER {100 * r['cer']:.2f}%{extra}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
