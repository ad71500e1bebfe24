"""Time `read_plates` with each backend on annotated photos, and score what each reads.

    python scripts/read_plates_backends.py ../shared/data/vkcv-photos --splits val test \
        --out experiments/read_plates_backends.json

Each photo is read once by each backend in turn (`research.photo_review.time_per_photo`: one photo a call,
the backends interleaved photo by photo, `--reps` passes), so the machine's load hits all alike; the
ratio of the medians is what to read on a shared machine. found / read / extra are
`detector.measures.score_photos` of the readings each backend gives on the whole split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr import read_plates
from anpr_ocr.detector.measures import score_photos
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.photo_review import time_per_photo

SCORES = ("found", "read", "extra", "found_rate", "read_rate", "extra_per_photo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with one folder per split")
    parser.add_argument("--splits", nargs="+", default=["val", "test"])
    parser.add_argument("--backends", nargs="+", default=["torch", "auto"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2, help="timed passes over each split")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"backends": args.backends, "threads": args.threads, "reps": args.reps, "splits": {}}
    for split in args.splits:
        photos = load_photos(args.photos / split)
        greys = [p.grey for p in photos]
        row = {"photos": len(photos)}
        for backend in args.backends:
            scores = score_photos(photos, read_plates(greys, backend=backend))
            row[backend] = {k: scores[k] for k in SCORES}
        inputs = {backend: [(backend, g) for g in greys] * args.reps for backend in args.backends}
        timed = time_per_photo(lambda item: read_plates(item[1], backend=item[0]), inputs)
        for backend in args.backends:
            row[backend].update({k: timed[f"{backend}_{k}"] for k in ("median_ms", "p90_ms")})
        first = args.backends[0]
        for backend in args.backends[1:]:
            row[f"{backend}_speedup_median"] = row[first]["median_ms"] / row[backend]["median_ms"]
        result["splits"][split] = row
        print(split, json.dumps(row))
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
