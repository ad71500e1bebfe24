"""Time `read_plates` and `predict` with ONNX Runtime's workers sleeping when idle and spinning within a call.

    python scripts/ort_spinning.py ../shared/data/vkcv-photos ../shared/data/vkcv-ocr/test --reps 3 \
        --out experiments/ort_spinning.json

`core.onnx_runtime.cpu_session` opens every session the reader and the detector run; its `spin_within_call`
says whether the thread pool's idle workers spin between the graph's nodes (and stop when the call returns)
or sleep. Both policies run in this one process: the committed checkpoints are copied twice, each copy
loaded under one policy (the loaders cache a model by file), and the two are timed in turns, item by item
(`research.photo_review.time_per_photo`: each item read twice, the second call timed), so the machine's
load hits both alike. Timed: `read_plates` on every photo of the photo splits, one photo a call; `predict`
with the INT8 checkpoint (ONNX Runtime INT8 where onnxruntime imports) and with the FP32 one in ONNX Runtime,
on the crops one a call (batch 1) and 64 a call (batch 64). What each policy reads is compared too: the
graphs are the same, so it must read the same.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import tempfile
from pathlib import Path

import torch

from anpr_ocr import FP32_WEIGHTS, INT8_WEIGHTS, predict, read_plates
from anpr_ocr.core.data import load_samples
from anpr_ocr.core.onnx_runtime import cpu_session
from anpr_ocr.detector import onnx_backend as detector_onnx
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import default_detector
from anpr_ocr.reader import onnx_backend as reader_onnx
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.photo_review import time_per_photo

POLICIES = {"no spinning": False, "spinning within a call": True}


def copies(folder: Path, policy: str) -> dict[str, Path]:
    """The committed detector and readers copied under `folder`, for one policy's sessions."""
    out = {}
    for key, path in (("detector", default_detector()), ("int8", INT8_WEIGHTS), ("fp32", FP32_WEIGHTS)):
        out[key] = folder / f"{policy.replace(' ', '_')}_{path.name}"
        shutil.copy(path, out[key])
    return out


def load_under(spin: bool, files: dict[str, Path], photo, crop) -> tuple:
    """Load (by reading once) the detector and both readers from `files` with sessions of this policy; what they
    read on one photo and one crop."""
    opened = functools.partial(cpu_session, spin_within_call=spin)
    saved = reader_onnx.cpu_session, detector_onnx.cpu_session
    reader_onnx.cpu_session = detector_onnx.cpu_session = opened  # the loaders open their sessions through these
    try:
        return (read_plates(photo, weights=files["int8"], detector=files["detector"]),
                predict(crop, weights=files["int8"]), predict(crop, weights=files["fp32"], backend="onnx"))
    finally:
        reader_onnx.cpu_session, detector_onnx.cpu_session = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with one folder per split")
    parser.add_argument("crops", type=Path, help="a split of labelled crops (its test split)")
    parser.add_argument("--splits", nargs="+", default=["val", "test"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3, help="timed passes")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    greys = [p.grey for split in args.splits for p in load_photos(args.photos / split)]
    crops = [s.image for s in load_samples(args.crops)[0]]
    batches = [(crops * 64)[i * 64:(i + 1) * 64] for i in range(max(1, len(crops) // 8))]
    with tempfile.TemporaryDirectory() as tmp:
        files = {policy: copies(Path(tmp), policy) for policy in POLICIES}
        for policy, spin in POLICIES.items():
            load_under(spin, files[policy], greys[0], crops[0])
        calls = {
            "read_plates": lambda f, g: read_plates(g, weights=f["int8"], detector=f["detector"]),
            "predict_int8": lambda f, x: predict(x, weights=f["int8"]),
            "predict_onnx_fp32": lambda f, x: predict(x, weights=f["fp32"], backend="onnx"),
        }
        inputs = {"read_plates": greys, "predict_int8": crops, "predict_onnx_fp32": crops}
        result = {"policies": POLICIES, "threads": args.threads, "reps": args.reps, "photos": len(greys),
                  "crops": len(crops), "timings": {}, "same_readings": {}}
        for name, call in calls.items():
            for batch, items in (("batch1", inputs[name]), ("batch64", batches)):
                if name == "read_plates" and batch == "batch64":
                    continue
                timed = time_per_photo(lambda item, call=call: call(files[item[0]], item[1]),
                                       {policy: [(policy, x) for x in items] * args.reps for policy in POLICIES})
                result["timings"][f"{name}_{batch}"] = timed
                print(name, batch, json.dumps({k: round(v, 3) for k, v in timed.items()}), flush=True)
            readings = [[call(files[policy], x) for x in inputs[name]] for policy in POLICIES]
            result["same_readings"][name] = readings[0] == readings[1]
    result.update(measured_here())
    print(json.dumps(result["same_readings"]))
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
