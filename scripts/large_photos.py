"""Score `read_plates` with one and two detector passes on large photos made from the annotated ones.

    python scripts/large_photos.py ../shared/data/vkcv-photos --out experiments/large_photos.json

For each split (val and test): the photos as they are (none over `detector.net.SECOND_PASS_OVER`, so both ways
must read them alike), the photos padded to twice their side, and close-ups scaled to 2,048 px wide
(`research.large_photos`). Each set is read by `read_plates` with `second_pass_over=None` (one pass) and with
the default (a second pass on photos over 1,024 px) and scored by `detector.measures.score_photos`; the made sets
are timed too, one photo a call, the two ways interleaved photo by photo (`research.photo_review.time_per_photo`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr import read_plates
from anpr_ocr.detector.measures import score_photos
from anpr_ocr.detector.net import SECOND_PASS_OVER
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.large_photos import close_ups, padded
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.photo_review import time_per_photo

SCORES = ("plates", "found", "read", "extra", "found_rate", "read_rate", "extra_per_photo")
WAYS = {"one_pass": None, "two_passes": SECOND_PASS_OVER}  # read_plates' second_pass_over


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with one folder per split")
    parser.add_argument("--splits", nargs="+", default=["val", "test"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"second_pass_over": SECOND_PASS_OVER, "threads": args.threads, "sets": {}}
    for split in args.splits:
        photos = load_photos(args.photos / split)
        for name, made in (("as_is", photos), ("padded_x2", padded(photos, 2.0)), ("close_ups", close_ups(photos))):
            greys = [p.grey for p in made]
            row = {"photos": len(made), "longest_side": max(max(g.shape) for g in greys)}
            for way, over in WAYS.items():
                scores = score_photos(made, read_plates(greys, second_pass_over=over))
                row[way] = {k: scores[k] for k in SCORES}
            if name != "as_is":
                timed = time_per_photo(lambda item: read_plates(item[1], second_pass_over=WAYS[item[0]]),
                                       {way: [(way, g) for g in greys] for way in WAYS})
                for way in WAYS:
                    row[way].update({k: timed[f"{way}_{k}"] for k in ("median_ms", "p90_ms")})
            result["sets"][f"{split}_{name}"] = row
            print(f"{split}_{name}", json.dumps(row))
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
