"""`anpr-ocr make-detector-int8 PHOTOS`: add the INT8 graph to a detector checkpoint (`detector.quantize`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import PHOTO_LAYOUT, CliError, HelpFormatter, install_hint


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `make-detector-int8` to the command line's subparsers."""
    from ..core.shipped import DETECTOR_WEIGHTS
    from ..detector.quantize import CALIBRATION_PHOTOS

    p = subparsers.add_parser(
        "make-detector-int8", help="add the INT8 graph ONNX Runtime runs to a detector checkpoint",
        formatter_class=HelpFormatter,
        description="Quantize a detector's net after training (ONNX Runtime, calibrated on the first photos of\n"
        "PHOTOS/train) and store the INT8 graph in its checkpoint, which `read` then runs with the onnx\n"
        "extra; the card beside it (the same name with .json), if there is one, records how it was made\n"
        f"(anpr_ocr.detector.quantize). Needs the onnx extra: {install_hint('onnx')}.\n\n"
        f"data layout of PHOTOS/train:\n{PHOTO_LAYOUT}")
    p.add_argument("photos", type=Path, metavar="PHOTOS", help="a folder holding train/ of photos")
    p.add_argument("--detector", type=Path, default=DETECTOR_WEIGHTS,
                   help="detector checkpoint to add the graph to (default: %(default)s)")
    p.add_argument("--calibration-photos", type=int, default=CALIBRATION_PHOTOS, metavar="N",
                   help="first train photos to calibrate on (default: %(default)s)")
    return p


def run(args: argparse.Namespace) -> int:
    """Quantize the detector and store its INT8 graph; print how it was made."""
    from ..core.files import write_json
    from ..detector.photos import load_photos
    from ..detector.quantize import quantize_detector

    if not args.detector.is_file():
        raise CliError(f"--detector: no checkpoint at {args.detector}")
    if args.calibration_photos < 1:
        raise CliError("--calibration-photos must be at least 1")
    photos = load_photos(args.photos / "train", limit=args.calibration_photos)
    if not photos:
        raise CliError(f"PHOTOS: no photos in {args.photos / 'train'}")
    recipe = quantize_detector(args.detector, [p.grey for p in photos], args.calibration_photos)
    print(json.dumps(recipe, indent=1))
    card = args.detector.with_suffix(".json")
    if card.is_file():
        write_json(card, {**json.loads(card.read_text(encoding="utf-8")), "int8": recipe})
    print(f"wrote the INT8 graph into {args.detector}" + (f" and its recipe into {card}" if card.is_file() else ""))
    return 0
