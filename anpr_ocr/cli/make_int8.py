"""`anpr-ocr make-int8 DATA`: the INT8 checkpoint (FX and ONNX Runtime INT8 models) and its card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import CROP_LAYOUT, CliError, HelpFormatter


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `make-int8` to the command line's subparsers."""
    from ..core.shipped import INT8_WEIGHTS
    from ..reader.loader import DEFAULT_WEIGHTS
    from ..research.make_int8 import CALIBRATION_CROPS

    p = subparsers.add_parser(
        "make-int8", help="make the INT8 checkpoint and its card from the FP32 one", formatter_class=HelpFormatter,
        description="Quantize the FP32 checkpoint on the first train crops of DATA into one INT8 checkpoint holding\n"
        "the FX model and (with onnxruntime) the ONNX Runtime INT8 model, and write its card beside it\n"
        f"(anpr_ocr.research.make_int8).\n\ndata layout of DATA/train, DATA/val and DATA/test, one of:\n{CROP_LAYOUT}")
    p.add_argument("data", type=Path, metavar="DATA", help="dataset root with train/, val/ and test/")
    p.add_argument("--fp32", type=Path, default=DEFAULT_WEIGHTS, help="FP32 checkpoint (default: %(default)s)")
    p.add_argument("--out", type=Path, default=INT8_WEIGHTS,
                   help="INT8 checkpoint to write; its card: the same name with .json (default: %(default)s)")
    p.add_argument("--calibration-crops", type=int, default=CALIBRATION_CROPS, metavar="N",
                   help="first train crops to calibrate on (default: %(default)s)")
    return p


def run(args: argparse.Namespace) -> int:
    """Make the INT8 checkpoint and its card; print what it reads by backend."""
    from ..research.make_int8 import make_int8

    if not args.fp32.is_file():
        raise CliError(f"--fp32: no checkpoint at {args.fp32}")
    if not (args.data / "train").exists():
        raise CliError(f"DATA: no train/ split in {args.data}")
    if args.calibration_crops < 1:
        raise CliError("--calibration-crops must be at least 1")
    card = make_int8(args.fp32, args.data, args.out, calibration_crops=args.calibration_crops)
    print(json.dumps({k: card[k] for k in ("metrics", "reads_by_backend")}, indent=1))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    return 0
