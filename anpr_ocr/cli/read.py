"""`anpr-ocr read PHOTO_OR_DIR ... [--json] [--draw OUT_DIR]`: find the plates in whole photos and read them.

Photos are read one at a time, so a long folder streams; both models are loaded before the first
photo, so a bad checkpoint stops the command at once, while an unreadable photo is skipped with a
one-line message on stderr and the exit status is 1 at the end, as with `predict`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..core.images import read_files
from .common import (
    CliError,
    HelpFormatter,
    Skips,
    add_detector_options,
    add_quiet_option,
    add_reader_options,
    add_reading_options,
    flags,
    iter_inputs,
    printing_beside,
    progress_bar,
    second_pass_over,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `read` to the command line's subparsers."""
    p = subparsers.add_parser(
        "read", help="find and read the plates in whole photos", formatter_class=HelpFormatter,
        description="Find the plates in photos (image files, or folders searched recursively) and read them.\n"
        "Prints one tab-separated line per plate (photo, text, confidence, detector score, box x0,y0,x1,y1,\n"
        "and 'invalid' / 'FLAGGED' where they apply; 'photo<TAB>-' for a photo without plates), or JSON\n"
        "Lines with --json. An unreadable photo is skipped with a line on stderr; the exit status is then 1.")
    p.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR")
    p.add_argument("--json", action="store_true", help="print JSON Lines: one JSON object per photo, {\"path\": ..., "
                   "\"plates\": [...]}, each plate with text, confidence, char_confidences, plate_type, valid, "
                   "flagged, box, corners, score")
    p.add_argument("--draw", metavar="OUT_DIR", help="also write each photo as OUT_DIR/<name>.jpg with its plates "
                   "outlined and labelled with text and confidence")
    add_detector_options(p)
    add_reading_options(p)
    add_reader_options(p)
    add_quiet_option(p, "photo")
    return p


def run(args: argparse.Namespace) -> int:
    """Read the photos; returns the exit status."""
    import cv2

    from ..detector.checkpoint import load_plate_detector
    from ..pipeline.read import default_detector, draw_readings, read_plates
    from ..reader.loader import load_reader
    from ..reader.predict import check_options

    check_options(args.alphabet, args.decoder, args.backend, args.min_confidence, args.batch_size)
    load_reader(args.weights, args.backend)  # bad checkpoints fail here, before any photo is read
    load_plate_detector(default_detector() if args.detector is None else args.detector, args.backend)
    skips = Skips(args.quiet, "photo")
    bar = progress_bar(args.quiet, " photos")
    try:
        for path in iter_inputs(args.inputs):
            image = _photo(path, colour=bool(args.draw))  # with --draw decoded once, in colour, for both uses
            if isinstance(image, str):
                with printing_beside(bar):
                    skips.skip(path, image)
                continue
            readings = read_plates(image, args.weights, args.detector, alphabet=args.alphabet, decoder=args.decoder,
                                   min_confidence=args.min_confidence, threshold=args.threshold,
                                   min_width=args.min_width, min_reading_confidence=args.min_reading_confidence,
                                   min_valid_reading_confidence=args.min_valid_reading_confidence,
                                   batch_size=args.batch_size, backend=args.backend,
                                   second_pass_over=second_pass_over(args))
            if args.draw:
                out = Path(args.draw) / f"{path.stem}.jpg"
                out.parent.mkdir(parents=True, exist_ok=True)
                if not cv2.imwrite(str(out), draw_readings(image, readings)):
                    raise CliError(f"cannot draw {path} into {out}")
            with printing_beside(bar):
                print(_lines(path, readings, args.json), flush=True)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return skips.finish()


def _photo(path: Path, colour: bool) -> np.ndarray | str:
    """The photo at `path`, grey (or BGR when `colour`), or the one-line reason it cannot be read."""
    if not colour:
        ((_, grey),) = read_files([path])
        return grey
    import cv2

    try:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        return f"cannot decode it ({' '.join(str(exc).split())})"
    return image if image is not None else f"{path} is not a readable image (corrupt, truncated or another format)"


def _lines(path: Path, readings: list, as_json: bool) -> str:
    """A photo's readings: one JSON object (JSON Lines), or one tab-separated line a plate."""
    if as_json:
        return json.dumps({"path": str(path), "plates": [asdict(r) for r in readings]}, ensure_ascii=False)
    if not readings:
        return f"{path}\t-"
    return "\n".join(f"{path}\t{r.text}\t{r.confidence:.3f}\t{r.score:.3f}\t{','.join(f'{v:.0f}' for v in r.box)}"
                     f"{flags(r)}" for r in readings)
