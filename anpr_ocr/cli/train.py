"""`anpr-ocr train --data DATA --out RUN`: train the plate reader as the notebook does (`train.reader.fit`).

Under `torchrun --nproc_per_node N -m anpr_ocr train ...` it trains data-parallel over N processes;
only rank 0 prints. Needs the train extra; so does its help's list of default values, which comes
from `TrainConfig`, the recipe written once.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any

from .common import CROP_LAYOUT, CliError, HelpFormatter, install_hint

RECIPE_OPTIONS = {  # option -> (TrainConfig field, what it sets)
    "--pretrain-epochs": ("pretrain_epochs", "epochs of rendered plates only"),
    "--finetune-epochs": ("finetune_epochs", "epochs over the real train split (with rendered plates mixed in)"),
    "--synth-per-epoch": ("synth_per_epoch", "plates rendered per pretraining epoch"),
    "--seed": ("seed", "random seed"),
    "--threads": ("threads", "torch threads, shared by the processes on one machine"),
}
FONT_HELP = "plate typeface, a .ttf (default: $ANPR_FONT; without one, plates are rendered in DejaVu Sans Bold)"
TEXTS_HELP = ("real plate strings, one a line, that half the rendered private plates show (default: $ANPR_TEXTS; "
              "without one, every rendered text is drawn at random)")


def _recipe() -> dict:
    from ..train.reader import TrainConfig

    recipe = TrainConfig()
    return {"device": recipe.device, **{field: getattr(recipe, field) for field, _ in RECIPE_OPTIONS.values()}}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `train` to the command line's subparsers."""
    p = subparsers.add_parser(
        "train", help="train a plate reader on crops (the train extra)",
        formatter_class=functools.partial(HelpFormatter, recipe=_recipe),
        description="Train a reader as ocr_train.ipynb does: rendered plates first, then the real crops of\n"
        "DATA/train, selecting the best epoch on DATA/val; writes OUT/best.pth (what --weights takes),\n"
        "last.pth, history.json and config.json. The defaults are the committed recipe (TrainConfig).\n"
        "Under `torchrun --nproc_per_node N -m anpr_ocr train ...` it trains data-parallel over N processes.\n"
        f"Needs the train extra: {install_hint('train')}.\n\n"
        f"data layout: DATA/train and DATA/val (SPLIT below), each one of:\n{CROP_LAYOUT}")
    p.add_argument("--data", required=True, metavar="DIR", help="a folder holding train/ and val/")
    p.add_argument("--out", required=True, metavar="DIR", help="where the run's files go")
    for flag, (_, what) in RECIPE_OPTIONS.items():
        p.add_argument(flag, type=int, metavar="N", help=what)
    p.add_argument("--limit", type=int, metavar="N", help="train and select on the first N crops of each split "
                   "(smoke runs; default: all)")
    p.add_argument("--font", metavar="TTF", help=FONT_HELP)
    p.add_argument("--texts", metavar="TXT", help=TEXTS_HELP)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="auto takes a GPU when there is one")
    p.add_argument("--resume", action="store_true", help="go on from OUT/last.pth if it holds this recipe")
    return p


def run(args: argparse.Namespace) -> int:
    """Train; returns the exit status."""
    from ..core.data import load_splits
    from ..train.reader import TrainConfig, fit, is_main_process, recipe_synth

    recipe = {field: getattr(args, field) for field, _ in RECIPE_OPTIONS.values()}
    for name, value in {**recipe, "limit": args.limit}.items():
        least = 1 if name in ("limit", "threads") else 0
        if value is not None and value < least:
            raise CliError(f"--{name.replace('_', '-')} must be at least {least}, got {value}")
    synth = renderer_inputs(args.font, args.texts, recipe_synth())
    config = TrainConfig(out_dir=args.out, synth=synth, resume=args.resume,
                         **{k: v for k, v in {**recipe, "device": args.device}.items() if v is not None})
    if config.pretrain_epochs + config.finetune_epochs == 0:
        raise CliError("nothing to train: --pretrain-epochs and --finetune-epochs are both 0")
    main_process = is_main_process()  # under torchrun only rank 0 prints
    if main_process:
        say_fallbacks(synth)

    root = Path(args.data)
    splits, reports = load_splits(root, ("train", "val"), progress=main_process)
    for name, samples in splits.items():
        if main_process:
            print(reports[name])
        if not samples:
            raise CliError(f"no readable labelled crops in {root / name} ({reports[name]})")
        if args.limit is not None:
            splits[name] = samples[:args.limit]
    result = fit(config, splits["train"], splits["val"])
    if main_process:
        best = result.best
        print(f"trained on {len(splits['train'])} crops, selected on {len(splits['val'])}: best val exact match "
              f"{best['val_exact_match']:.4f}, CER {best['val_cer']:.4f} at epoch {best['epoch']} ({best['stage']}), "
              f"{result.wall_seconds / 60:.1f} min; wrote {result.best_path}")
    return 0


def renderer_inputs(font: str | None, texts: str | None, found: Any) -> Any:
    """The renderer's typeface and plate strings: --font / --texts, else what `found` (a SynthConfig from
    the environment) has; a path given that is no file is an error."""
    from dataclasses import replace

    for flag, path in (("--font", font), ("--texts", texts)):
        if path is not None and not Path(path).is_file():
            raise CliError(f"{flag}: no such file: {path}")
    return replace(found, font_path=font or found.font_path, texts_path=texts or found.texts_path)


def say_fallbacks(synth: Any) -> None:
    """One note for each renderer input that is missing, and what is used instead."""
    if synth.font_path is None:
        print("NOTE: no plate typeface (--font or $ANPR_FONT): rendering plates in DejaVu Sans Bold instead")
    if synth.texts_path is None:
        print("NOTE: no plate strings (--texts or $ANPR_TEXTS): rendered texts are drawn at random")
