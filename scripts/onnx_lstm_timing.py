"""Time the committed ONNX Runtime INT8 graph against the same graph with its LSTM in INT8.

    python scripts/onnx_lstm_timing.py ../shared/data/vkcv-ocr/test --out experiments/onnx_lstm_timing.json

Model calls only, both sessions at `--threads`, interleaved in one round robin (the order flips each
repetition) so that the machine's load hits both alike: per repetition 8 calls at batch 1 on test
crops in turn and one at batch 64. Prints and stores the medians and their ratios.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from anpr_ocr.core.data import load_samples
from anpr_ocr.core.images import batch_tensor
from anpr_ocr.core.shipped import INT8_WEIGHTS
from anpr_ocr.reader.onnx_backend import OnnxReader, quantize_lstm
from anpr_ocr.reader.quantize import onnx_int8_graph
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("crops", type=Path, help="a folder of crops in the Nomeroff layout (img/, ann/)")
    parser.add_argument("--int8", type=Path, default=INT8_WEIGHTS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    graph = onnx_int8_graph(args.int8)
    if graph is None:
        raise SystemExit(f"{args.int8} carries no ONNX Runtime INT8 graph")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "present.onnx").write_bytes(graph)
        quantize_lstm(Path(tmp) / "present.onnx", Path(tmp) / "int8_lstm.onnx")
        models = {name: OnnxReader(Path(tmp) / f"{name}.onnx", args.threads) for name in ("present", "int8_lstm")}
    x = batch_tensor([s.image for s in load_samples(args.crops)[0]])
    singles, batch = [x[i:i + 1] for i in range(len(x))], x.repeat(64 // len(x) + 1, 1, 1, 1)[:64]
    for model in models.values():  # warm up
        for _ in range(5):
            model(singles[0]), model(batch)
    times = {name: {"batch_1": [], "batch_64": []} for name in models}
    names = list(models)
    for rep in range(args.reps):
        for name in names[rep % 2:] + names[:rep % 2]:
            for i in range(8):
                start = time.perf_counter()
                models[name](singles[(rep * 8 + i) % len(singles)])
                times[name]["batch_1"].append(time.perf_counter() - start)
            start = time.perf_counter()
            models[name](batch)
            times[name]["batch_64"].append(time.perf_counter() - start)
    medians = {name: {b: float(np.median(t)) * 1e3 for b, t in by.items()} for name, by in times.items()}
    result = {"threads": args.threads, "reps": args.reps, "median_ms": medians,
              "speedup": {b: medians["present"][b] / medians["int8_lstm"][b] for b in ("batch_1", "batch_64")},
              **measured_here()}
    print(json.dumps(result, indent=1))
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
