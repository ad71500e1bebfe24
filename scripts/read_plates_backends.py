"""Time `read_plates` set up in several ways on annotated photos, and score what each reads.

    python scripts/read_plates_backends.py ../shared/data/vkcv-photos --splits val test \
        --setups torch auto auto:weights/crnn_ocr_model_int8_fx.pth --winter-seeds 0 1 2 \
        --out experiments/read_plates_backends.json

A setup is a `backend` ("torch", "onnx" or "auto", for the detector and the reader alike), optionally with
the reader's checkpoint after a colon (default: `read_plates`' own) and the detector's after a second one
(default: the committed detector): "auto:READER", "auto::DETECTOR"; `read_plates` keyword arguments follow
after semicolons, their values as JSON: "auto;sure_confidence=2". Each photo is read by each setup in turn
(`research.photo_review.time_per_photo`: one photo a call, twice, the second call timed, the setups
interleaved photo by photo, `--reps` passes), so the machine's load hits all alike; the ratios of the medians
and of the means to the first setup's are what to read on a shared machine. found / reported / read / extra
are `research.photo_review.end_to_end_scores` of what each setup reads on the whole split: found counts the
plates detected, reported those a reading over the confidence floors shows. With `--winter-seeds`, the val
photos with their plates covered by renders in winter dress (`research.winter_photos`, one copy a seed) are
scored too, not timed; with `--per-seed` also each seed's copy alone, and each setup's difference from the
one named by `--paired-with` (default: the first) seed by seed (`research.photo_review.paired_by_seed`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr import read_plates
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.photo_review import end_to_end_scores, paired_by_seed, time_per_photo
from anpr_ocr.research.winter_photos import winter_photos, winter_renderer

SCORES = ("plates", "found", "reported", "read", "extra", "found_rate", "reported_rate", "read_rate", "extra_per_photo")


def options(setup: str) -> dict:
    """`read_plates` keyword arguments of a setup "BACKEND[:READER_WEIGHTS[:DETECTOR]][;KEY=VALUE...]"."""
    runtime, *more = setup.split(";")
    backend, _, rest = runtime.partition(":")
    weights, _, detector = rest.partition(":")
    extra = {key: json.loads(value) for key, _, value in (item.partition("=") for item in more)}
    return {"backend": backend, "weights": weights or None, "detector": detector or None, **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with one folder per split")
    parser.add_argument("--splits", nargs="+", default=["val", "test"])
    parser.add_argument("--setups", nargs="+", default=["torch", "auto"],
                        metavar="BACKEND[:WEIGHTS[:DETECTOR]][;KEY=VALUE]")
    parser.add_argument("--winter-seeds", nargs="*", type=int, default=[], help="score winter val at these seeds")
    parser.add_argument("--per-seed", action="store_true", help="also score each winter seed's photos alone")
    parser.add_argument("--paired-with", metavar="SETUP", help="the setup the others are compared with seed by seed "
                        "(default: the first)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2, help="timed passes over each split")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.paired_with is not None and args.paired_with not in args.setups:
        parser.error(f"--paired-with {args.paired_with!r} is not one of --setups")
    torch.set_num_threads(args.threads)
    result = {"setups": args.setups, "threads": args.threads, "reps": args.reps, "splits": {}}
    sets = {split: load_photos(args.photos / split) for split in args.splits}
    if args.winter_seeds:
        val = sets["val"] if "val" in sets else load_photos(args.photos / "val")
        renderer = winter_renderer()
        sets["winter_val"] = [p for seed in args.winter_seeds for p in winter_photos(val, renderer, seed)]
    for split, photos in sets.items():
        greys = [p.grey for p in photos]
        row = {"photos": len(photos)}
        for setup in args.setups:
            scores = end_to_end_scores(photos, **options(setup))
            row[setup] = {k: scores[k] for k in SCORES}
        if split != "winter_val":
            inputs = {setup: [(setup, g) for g in greys] * args.reps for setup in args.setups}
            timed = time_per_photo(lambda item: read_plates(item[1], **options(item[0])), inputs)
            first = args.setups[0]
            for setup in args.setups:
                row[setup].update({k: timed[f"{setup}_{k}"] for k in ("median_ms", "p90_ms", "mean_ms")})
                row[setup]["speedup_median"] = timed[f"{first}_median_ms"] / timed[f"{setup}_median_ms"]
                row[setup]["speedup_mean"] = timed[f"{first}_mean_ms"] / timed[f"{setup}_mean_ms"]
        result["splits"][split] = row
        print(split, json.dumps(row))
    if args.per_seed and args.winter_seeds:
        baseline = args.paired_with or args.setups[0]
        winter, per_set = sets["winter_val"], len(sets["winter_val"]) // len(args.winter_seeds)
        rows = []
        for start in range(0, len(winter), per_set):
            seed_scores = {setup: end_to_end_scores(winter[start:start + per_set], **options(setup))
                           for setup in args.setups}
            rows.append({setup: {k: scores[k] for k in SCORES} for setup, scores in seed_scores.items()})
        result["per_seed"] = {"seeds": args.winter_seeds, "paired_with": baseline, "rows": rows,
                              "paired": paired_by_seed(rows, baseline)}
        print("per seed", json.dumps(result["per_seed"]["paired"]))
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
