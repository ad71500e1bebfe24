"""Score a trained detector again through `read_plates` as it is now, without training it again.

    python scripts/rescore_detector.py ../shared/data/vkcv-photos [--detector weights/plate_detector.pth] \
        [--card weights/plate_detector.json] [--figures figures] [--readme README.md]

When `read_plates` changes around a detector (its cuts, floors or runtime), the detector's card and figures,
written by `detect_train.ipynb` when it trained it, describe the old reading. This does what the notebook does
after training, with the package's same functions: the threshold swept on the val photos and chosen by
`train.detector.choose_threshold` (stored in the checkpoint when it changes), found / reported / read / extra
on val and test (`research.photo_review.end_to_end_scores`), the time a test photo (`photo_speed`); then it
rewrites the card's reading settings, end-to-end scores and speed (its training record and detection scores
stay), `FIGURES/detect_metrics.json`'s metrics and speed, and the README's results block. Training a detector
again does not give the same one (docs/experiments.md), so this is how a kept detector's figures follow the code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr.core.shipped import DETECTOR_WEIGHTS
from anpr_ocr.detector.checkpoint import detector_threshold, set_threshold
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.report.cards import read_plates_settings
from anpr_ocr.report.tables import update_readme
from anpr_ocr.research.machine import created_now, environment
from anpr_ocr.research.photo_review import end_to_end_scores, photo_speed
from anpr_ocr.train.detector import THRESHOLDS, choose_threshold

SPEED_PHOTOS = 100  # test photos timed one a call, as the notebook's SPEED_PHOTOS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with val/ and test/")
    parser.add_argument("--detector", type=Path, default=DETECTOR_WEIGHTS)
    parser.add_argument("--card", type=Path, default=Path("weights/plate_detector.json"))
    parser.add_argument("--figures", type=Path, default=Path("figures"))
    parser.add_argument("--readme", type=Path, help="rewrite this README's results block")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    splits = {name: load_photos(args.photos / name) for name in ("val", "test")}
    sweep = [{"threshold": t, **end_to_end_scores(splits["val"], args.detector, threshold=t)} for t in THRESHOLDS]
    for row in sweep:
        print("val sweep", json.dumps({k: row[k] for k in ("threshold", "found", "reported", "read", "extra")}))
    threshold = choose_threshold(sweep)
    if threshold != detector_threshold(args.detector):
        set_threshold(args.detector, threshold)
    print(f"threshold chosen on val: {threshold}")
    card = json.loads(args.card.read_text())
    card["read_plates"] = read_plates_settings(threshold)
    for name, photos in splits.items():
        card["metrics"][name].update(end_to_end_scores(photos, args.detector))
        print(name, json.dumps(card["metrics"][name]))
    card["speed"] = photo_speed(splits["test"], args.detector, SPEED_PHOTOS)
    card["environment"], card["rescored"] = environment(), created_now()
    args.card.write_text(json.dumps(card, indent=1, default=float))
    metrics_path = args.figures / "detect_metrics.json"
    figures = json.loads(metrics_path.read_text())
    figures.update(metrics=card["metrics"], speed=card["speed"])
    metrics_path.write_text(json.dumps(figures, indent=1, default=float))
    print("speed", json.dumps(card["speed"]))
    if args.readme:
        update_readme(args.readme, args.card.parent, args.figures)


if __name__ == "__main__":
    main()
