"""Score `read_plates` settings on whole photos: cuts a plate, confidence floors, detectors.

    python scripts/photo_levers.py ../shared/data/vkcv-photos --detectors weights/plate_detector.pth \
        [runs/detector/best.pth] [--settings three_cuts] [--valid-floors 0.2 0.1] --out experiments/photo_levers.json

For each detector and each cut setting (one cut; the three of `pipeline.read.CUTS`), every found plate of the
VKCV val and test photos and of the winter val photos (`research.winter_photos`, renders drawn at `--seeds`) is
read once with no floor; each pair of floors (0.2 for readings that are not valid plates, each of `--valid-floors`
for valid ones: `pipeline.read.reported`) is then applied to
those readings and scored with `detector.measures.score_photos` (found: a reported reading at IoU >= 0.5;
detected: a detection at IoU >= 0.5, before the floors).
The time a VKCV test photo takes (default floors) is measured for each cut setting, interleaved photo by photo.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr import read_plates
from anpr_ocr.detector.measures import score_photos
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import CUTS, MIN_READING_CONFIDENCE, reported
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.photo_review import time_per_photo
from anpr_ocr.research.winter_photos import winter_photos, winter_renderer

SETTINGS = {"one_cut": CUTS[:1], "three_cuts": CUTS}
VALID_FLOORS = (MIN_READING_CONFIDENCE, 0.15, 0.1, 0.05)
SCORES = ("plates", "found", "read", "extra", "found_rate", "read_rate", "extra_per_photo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with val/ and test/")
    parser.add_argument("--detectors", nargs="+", type=Path, required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="winter renders' seeds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS), help="cut settings")
    parser.add_argument("--valid-floors", nargs="+", type=float, default=list(VALID_FLOORS),
                        help="floors for readings that are valid plates (the first is the one printed)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    val, test = (load_photos(args.photos / split) for split in ("val", "test"))
    renderer = winter_renderer()
    sets = {"val": val, "winter_val": [p for seed in args.seeds for p in winter_photos(val, renderer, seed)],
            "test": test}
    settings = {name: SETTINGS[name] for name in args.settings}
    result = {"seeds": args.seeds, "threads": args.threads, "cuts": {k: list(v) for k, v in settings.items()},
              "valid_floors": args.valid_floors, "detectors": {}}
    for detector in args.detectors:
        row = {}
        for name, cuts in settings.items():
            for set_name, photos in sets.items():
                greys = [p.grey for p in photos]
                readings = read_plates(greys, detector=detector, cuts=cuts, min_reading_confidence=0.0,
                                       min_valid_reading_confidence=0.0)
                for floor in args.valid_floors:
                    kept = [[r for r in rs if reported(r, MIN_READING_CONFIDENCE, floor)] for rs in readings]
                    scores = score_photos(photos, kept)
                    detected = score_photos(photos, kept, detections=readings)["found"]  # before the floors
                    row[f"{name}/{set_name}/valid_floor_{floor}"] = {**{k: scores[k] for k in SCORES},
                                                                     "detected": detected}
                first = row[f"{name}/{set_name}/valid_floor_{args.valid_floors[0]}"]
                print(detector, name, set_name, json.dumps(first), flush=True)
        inputs = {name: [(detector, cuts, p.grey) for p in test] for name, cuts in settings.items()}
        row["time"] = time_per_photo(lambda item: read_plates(item[2], detector=item[0], cuts=item[1]), inputs)
        print(detector, json.dumps(row["time"]), flush=True)
        result["detectors"][str(detector)] = row
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
