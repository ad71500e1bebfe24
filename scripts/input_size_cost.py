"""What a taller reader input costs on this CPU, before any training: INT8 at 32 px against 48 px.

    python scripts/input_size_cost.py ../shared/data/vkcv-ocr --heights 32 48 \
        --out experiments/input_size_cost.json

For each height a CRNN of the committed architecture (`CRNNConfig` but for `height`) is built with random
weights and quantized as `make-int8` quantizes (FX and ONNX Runtime INT8, calibrated on the first train crops);
the committed INT8 checkpoint is timed beside them. Speed does not depend on the weights' values, but the format
decoder's work does (an untrained model is unsure of every frame), so `predict` is timed with the greedy decoder,
one test crop a call, every model in turn (round robin, `--reps` passes), so the machine's load hits all alike.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from anpr_ocr import INT8_WEIGHTS, predict
from anpr_ocr.core.data import load_samples
from anpr_ocr.reader.model import CRNN, CRNNConfig
from anpr_ocr.reader.quantize import quantize_fx, save_quantized
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.make_int8 import CALIBRATION_CROPS


def int8_checkpoint(height: int, calibration: list[np.ndarray], folder: Path) -> Path:
    """A random-weight INT8 checkpoint of the committed architecture at `height`."""
    torch.manual_seed(0)
    config = replace(CRNNConfig(), height=height)
    path = folder / f"int8_{height}px.pth"
    save_quantized(quantize_fx(CRNN(config).eval(), calibration), config, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="dataset root with train/ and test/ (Nomeroff layout)")
    parser.add_argument("--heights", type=int, nargs="+", default=[32, 48])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    calibration = [s.image for s in load_samples(args.data / "train")[0][:CALIBRATION_CROPS]]
    crops = [s.image for s in load_samples(args.data / "test")[0]]
    with tempfile.TemporaryDirectory() as tmp:
        models = {"committed": Path(INT8_WEIGHTS),
                  **{f"{h}px": int8_checkpoint(h, calibration, Path(tmp)) for h in args.heights}}
        runs = [(name, backend) for name in models for backend in ("torch", "onnx")]
        times: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
        for name, backend in runs:  # load and warm up
            predict(crops[:8], weights=models[name], decoder="greedy", backend=backend)
        for rep in range(args.reps):
            for name, backend in runs[rep % len(runs):] + runs[:rep % len(runs)]:
                for crop in crops:
                    start = time.perf_counter()
                    predict(crop, weights=models[name], decoder="greedy", backend=backend)
                    times[name, backend].append(time.perf_counter() - start)
    median = {f"{name} {backend}": float(np.median(t)) * 1e3 for (name, backend), t in times.items()}
    result = {"threads": args.threads, "reps": args.reps, "crops": len(crops), "predict_batch_1_median_ms": median,
              "relative_to_committed": {k: v / median[f"committed {k.split()[-1]}"] for k, v in median.items()},
              **measured_here()}
    print(json.dumps(result, indent=1))
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
