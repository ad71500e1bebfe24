"""Whether two backends read the same crops alike: `predict` on every crop of a Nomeroff-layout root, once a backend.

    python scripts/backend_agreement.py ../shared/data/vkcv-ocr --backends torch onnx \
        --out experiments/fp32_onnx_agreement.json

For each split, the crops whose text differs between the first backend and each other one, the largest
difference of their confidences, and exact match against the labels; and the seconds the first load of each
backend takes (for an FP32 checkpoint under "onnx": the export to ONNX and the session).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from anpr_ocr import predict
from anpr_ocr.core.data import load_splits
from anpr_ocr.reader.loader import default_weights, load_reader
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="Nomeroff-layout root with train/ val/ test/")
    parser.add_argument("--weights", type=Path, default=default_weights())
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    splits, _ = load_splits(args.data)
    result = {"weights": str(args.weights), "backends": args.backends, "threads": args.threads, "load_seconds": {},
              "splits": {}}
    for backend in args.backends:
        start = time.perf_counter()
        load_reader(args.weights, backend)
        result["load_seconds"][backend] = time.perf_counter() - start
    first, *others = args.backends
    for split, samples in splits.items():
        greys = [s.image for s in samples]
        read = {b: predict(greys, weights=args.weights, backend=b) for b in args.backends}
        row = {"crops": len(samples),
               "exact_match": {b: sum(r.text == s.text for r, s in zip(rs, samples)) / len(samples)
                               for b, rs in read.items()}}
        for other in others:
            pairs = list(zip(read[first], read[other]))
            row[f"{other}_texts_differ"] = sum(a.text != b.text for a, b in pairs)
            row[f"{other}_max_confidence_diff"] = max(abs(a.confidence - b.confidence) for a, b in pairs)
        result["splits"][split] = row
        print(split, json.dumps(row), flush=True)
    print("load seconds", json.dumps(result["load_seconds"]))
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
