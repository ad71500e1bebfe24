"""The format decoder's constrained search with every class above 1e-6 a frame, against at most `--per-frame`.

    python scripts/constrained_search.py ../shared/data/vkcv-ocr ../shared/data/vkcv-photos --per-frame 8 \
        --out experiments/constrained_search.json

Both variants decode the same frame probabilities (the committed reader as `predict` runs it): every crop of
the data's splits, as `predict` reads them, and the three cuts of every plate `read_plates` finds on the VKCV val
and test photos and on winter val (`research.winter_photos`, renders at `--seeds`), read as one (`consensus_decode`;
`read_plates` reads one cut of the plates that one reads surely or under `pipeline.read.MIN_RECUT_CONFIDENCE`,
since this script's run) and put through `read_plates`' floors (`pipeline.read.reported`). Per set: texts that
differ, exact match or found / reported / read / extra (`detector.measures.score_photos`), and the seconds decoding
took.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from anpr_ocr.core.data import load_splits
from anpr_ocr.detector.checkpoint import load_plate_detector
from anpr_ocr.detector.measures import score_photos
from anpr_ocr.detector.net import cut_plate
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import CUTS, default_detector, found_plates, photo_reading, reported
from anpr_ocr.reader.decode import CONSTRAINED_PER_FRAME, consensus_decode, decode
from anpr_ocr.reader.infer import frame_probs
from anpr_ocr.reader.loader import load_reader
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.winter_photos import winter_photos, winter_renderer

SCORES = ("found", "reported", "read", "extra")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="Nomeroff-layout crops with train/ val/ test/")
    parser.add_argument("photos", type=Path, help="COCO keypoints root with val/ and test/")
    parser.add_argument("--per-frame", type=int, default=CONSTRAINED_PER_FRAME)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="winter renders' seeds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = {"all": {"constrained_per_frame": None},
                f"top{args.per_frame}": {"constrained_per_frame": args.per_frame}}
    reader = load_reader()
    result = {"per_frame": args.per_frame, "variants": list(variants), "crops": {}, "photos": {}}
    splits, _ = load_splits(args.data)
    for split, samples in splits.items():
        probs = frame_probs(reader.model, [s.image for s in samples], temperature=reader.temperature)
        read = {name: timed(decode, probs, "format", **opts) for name, opts in variants.items()}
        first, *others = variants
        row = {"crops": len(samples), **{f"{name}_seconds": seconds for name, (_, seconds) in read.items()},
               "exact_match": {name: sum(r.text == s.text for r, s in zip(rs, samples)) / len(samples)
                               for name, (rs, _) in read.items()},
               "differ": {name: [(s.text, a.text, b.text) for s, a, b in zip(samples, read[first][0], read[name][0])
                                 if a.text != b.text] for name in others}}
        result["crops"][split] = row
        print(split, json.dumps(row), flush=True)
    val = load_photos(args.photos / "val")
    renderer = winter_renderer()
    sets = {"val": val, "test": load_photos(args.photos / "test"),
            "winter_val": [p for seed in args.seeds for p in winter_photos(val, renderer, seed)]}
    detector, threshold = load_plate_detector(default_detector(), "auto")
    for name, photos in sets.items():
        greys = [p.grey for p in photos]
        found = found_plates(detector, greys, threshold)
        crops = [cut_plate(g, d.corners, mx, my) for g, dets in zip(greys, found) for d in dets for mx, my in CUTS]
        probs = frame_probs(reader.model, crops, temperature=reader.temperature)
        row = {"photos": len(photos), "plates_read": sum(map(len, found))}
        for variant, opts in variants.items():
            decoded, seconds = timed(consensus_decode, probs, len(CUTS), "format", **opts)
            it = iter(decoded)
            every = [[photo_reading(next(it), d) for d in dets] for dets in found]
            scores = score_photos(photos, [[r for r in rs if reported(r)] for rs in every], detections=every)
            row[variant] = {**{k: scores[k] for k in SCORES}, "decode_seconds": seconds}
        result["photos"][name] = row
        print(name, json.dumps(row), flush=True)
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
