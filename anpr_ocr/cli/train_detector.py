"""`anpr-ocr train-detector --data PHOTOS --out RUN`: train the plate detector as detect_train.ipynb does
(`train.detector.fit_detector`), from the terminal.

It trains in one process on the CPU: `fit_detector` has no data-parallel mode, so under torchrun
with more than one process the command says so and stops. It does not choose the score threshold
(the notebook does, on val, with the reader): a detector without one is read at
`detector.checkpoint.DEFAULT_THRESHOLD` unless `anpr-ocr read --threshold` says otherwise.
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import Any

from ..detector.checkpoint import DEFAULT_THRESHOLD
from ..detector.net import PAD_MULTIPLE
from .common import PHOTO_LAYOUT, CliError, HelpFormatter, install_hint
from .train import FONT_HELP, TEXTS_HELP, renderer_inputs, say_fallbacks

RECIPE_OPTIONS = {  # option -> (DetectConfig field, type, what it sets); "model.x" is DetectConfig.model.x
    "--epochs": ("epochs", int, "epochs (one learning-rate cycle over them)"),
    "--minutes": ("minutes", float, "wall-time cap of the whole run; 0: no cap, the run is epochs-bound"),
    "--crops-per-epoch": ("crops_per_epoch", int, "augmented crops of the training photos drawn per epoch"),
    "--crop-size": ("crop_size", int, f"side of the square training crops, px (a multiple of {PAD_MULTIPLE})"),
    "--input-size": ("model.input_size", int, "the photo's longer side in the detector's input, px"),
    "--batch-size": ("batch_size", int, "crops per optimiser step"),
    "--seed": ("seed", int, "random seed"),
    "--threads": ("threads", int, "torch threads"),
    "--workers": ("num_workers", int, "processes that prepare the training crops"),
}


def _recipe() -> dict:
    from ..train.detector import DetectConfig

    config = DetectConfig()
    return {_dest(flag): _value(config, field) for flag, (field, _, _) in RECIPE_OPTIONS.items()}


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _value(config, field: str):
    for name in field.split("."):
        config = getattr(config, name)
    return config


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `train-detector` to the command line's subparsers."""
    p = subparsers.add_parser(
        "train-detector", help="train a plate detector on whole photos (the train extra)",
        formatter_class=functools.partial(HelpFormatter, recipe=_recipe),
        description="Train a plate detector as detect_train.ipynb does: augmented crops of the DATA/train photos\n"
        "with rendered plates pasted in, selecting the best epoch by AP on the DATA/val photos; writes\n"
        "OUT/best.pth (what `anpr-ocr read --detector` takes), last.pth, history.json and config.json.\n"
        "The defaults are the committed recipe (DetectConfig). It trains in one process, on the CPU.\n"
        "The score threshold is not chosen here (detect_train.ipynb chooses it on val, with the reader):\n"
        f"`anpr-ocr read --detector OUT/best.pth` uses {DEFAULT_THRESHOLD} unless given --threshold.\n"
        f"Needs the train extra: {install_hint('train')}.\n\n"
        f"data layout: DATA/train and DATA/val (SPLIT below):\n{PHOTO_LAYOUT}")
    p.add_argument("--data", required=True, metavar="DIR", help="a folder holding train/ and val/ of photos")
    p.add_argument("--out", required=True, metavar="DIR", help="where the run's files go")
    for flag, (_, kind, what) in RECIPE_OPTIONS.items():
        p.add_argument(flag, type=kind, metavar="MINUTES" if kind is float else "N", help=what)
    p.add_argument("--font", metavar="TTF", help=FONT_HELP)
    p.add_argument("--texts", metavar="TXT", help=TEXTS_HELP)
    p.add_argument("--resume", action="store_true", help="go on from OUT/last.pth if it holds this recipe")
    return p


def run(args: argparse.Namespace) -> int:
    """Train the detector; returns the exit status."""
    from dataclasses import replace

    from ..detector.photos import load_photos
    from ..train.detector import DetectConfig, fit_detector
    from ..train.reader import recipe_synth

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise CliError("train-detector trains in one process (fit_detector has no data-parallel mode): "
                       "run it without torchrun")
    given = {}
    for flag, (field, _, _) in RECIPE_OPTIONS.items():
        given[field] = value = getattr(args, _dest(flag))
        least = 0 if field in ("minutes", "num_workers") else 1
        if value is not None and value < least:
            raise CliError(f"{flag} must be at least {least}, got {value}")
    if args.crop_size is not None and args.crop_size % PAD_MULTIPLE:
        raise CliError(f"--crop-size must be a multiple of {PAD_MULTIPLE}, got {args.crop_size}")
    synth = renderer_inputs(args.font, args.texts, recipe_synth(DetectConfig().synth.weather_fraction))
    config = DetectConfig(out_dir=args.out, synth=synth, resume=args.resume)
    if given["model.input_size"] is not None:
        config = replace(config, model=replace(config.model, input_size=given["model.input_size"]))
    config = replace(config, **{k: v for k, v in given.items() if v is not None and "." not in k})
    if config.minutes == 0:
        config = replace(config, minutes=None)
    say_fallbacks(synth)

    root = Path(args.data)
    splits = {}
    for name in ("train", "val"):
        splits[name] = load_photos(root / name, progress=True)
        print(f"{root / name}: {len(splits[name])} photos, {sum(len(p.plates) for p in splits[name])} plates")
        if not splits[name]:
            raise CliError(f"no photos in {root / name}")
    result = fit_detector(config, splits["train"], splits["val"])
    best = result.best
    if "epoch" not in best:
        raise CliError(f"no epoch was trained (the --minutes cap of {config.minutes} was used up first)")
    print(f"trained on {len(splits['train'])} photos, selected on {len(splits['val'])}: best val AP "
          f"{best['val_ap']:.4f} (AP50 {best['val_ap50']:.4f}, AP75 {best['val_ap75']:.4f}, corner error "
          f"{best['val_corner_error_px']:.1f} px) at epoch {best['epoch']}, {result.wall_seconds / 60:.1f} min; "
          f"wrote {result.best_path}")
    return 0
