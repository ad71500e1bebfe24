"""Cross-validate a training recipe over the real train + val crops (never test), or compare two.

    python scripts/cv.py DATA_ROOT --recipe NAME [--set KEY=VALUE ...] [--seeds 1 2] [--folds 5]
                         [--fold-seed 0] [--out runs/cv] [--record experiments/cv]
    python scripts/cv.py --compare experiments/cv/A_seed*.json experiments/cv/B_seed*.json

A recipe is a named set of TrainConfig overrides (RECIPES; "committed" is the defaults); --set adds
overrides, dotted for nested configs (--set model.lstm_hidden=128 --set finetune_epochs=15), with
JSON values. A new name with --set is a new recipe. Runs go to OUT (resumable: run the same command
again to go on), one record per seed to RECORD/<recipe>_seed<s>.json, and the summary table is
printed at the end. --compare reads the records of two recipes and prints their fold-by-fold
differences of out-of-fold exact match by `predict`'s decoder at the fitted temperature, each crop read
once (no second look), the score the selection rules in docs/experiments.md are written on. The
renderer's typeface and plate strings come from ANPR_FONT and ANPR_TEXTS (defaults:
anpr_ocr.train.reader's DEFAULT_FONT and DEFAULT_TEXTS).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from pathlib import Path

from anpr_ocr.core.data import load_splits
from anpr_ocr.research import crossval
from anpr_ocr.research.proxies import PANELS
from anpr_ocr.train.reader import TrainConfig

RECIPES: dict[str, dict] = {
    "committed": {},  # TrainConfig's defaults
    "no_box_tilt": {"real_box_tilt": 0.0},  # the recipe before real crops were cut as tilted boxes
    "region_swap": {"real_region_swap": 0.25},  # a quarter of the real crops take another crop's region code
}


def with_override(config, key: str, value):
    """`config` (a dataclass) with the dotted `key` set to `value`; lists become tuples where the field is one."""
    head, _, tail = key.partition(".")
    names = {f.name for f in dataclasses.fields(config)}
    if head not in names:
        raise SystemExit(f"--set {key}: {type(config).__name__} has no field {head!r} (fields: {sorted(names)})")
    current = getattr(config, head)
    if tail:
        if not dataclasses.is_dataclass(current):
            raise SystemExit(f"--set {key}: {head} is not a nested config")
        return dataclasses.replace(config, **{head: with_override(current, tail, value)})
    if isinstance(current, tuple) and isinstance(value, list):
        value = tuple(value)
    return dataclasses.replace(config, **{head: value})


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare string


def recipe_config(name: str, sets: list[str]) -> TrainConfig:
    if name not in RECIPES and not sets:
        raise SystemExit(f"unknown recipe {name!r} (known: {sorted(RECIPES)}); a new one needs --set overrides")
    config = TrainConfig()  # the renderer's inputs from ANPR_FONT / ANPR_TEXTS or ../shared (train.recipe_synth)
    if config.synth.font_path is None:
        print("no plate typeface (set ANPR_FONT): rendering in DejaVu Sans", file=sys.stderr)
    overrides = [(k, v) for k, v in RECIPES.get(name, {}).items()]
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set needs KEY=VALUE, got {item!r}")
        overrides.append((key, parse_value(value)))
    for key, value in overrides:
        config = with_override(config, key, value)
    return config


def print_table(rows: list[dict]) -> None:
    """The summary rows as a plain-text table."""
    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}"

    header = ["recipe", "seeds", "exact match %", "sd folds", "sd seeds", "CER %", "sd folds", "sd seeds",
              "greedy exact %", *(f"{p} {'/'.join(map(str, strengths))}" for p, (_, strengths) in PANELS.items()),
              "degraded %", "wall min"]
    lines = [header]
    for r in rows:
        panels = ["/".join(f"{r[f'{p}{s}']:.0f}" for s in strengths) if f"{p}{strengths[0]}" in r else "-"
                  for p, (_, strengths) in PANELS.items()]
        lines.append([r["recipe"], str(r["seeds"]), pct(r["exact_match_read"]), pct(r["exact_match_read_sd_folds"]),
                      pct(r["exact_match_read_sd_seeds"]), pct(r["cer_read"]), pct(r["cer_read_sd_folds"]),
                      pct(r["cer_read_sd_seeds"]), pct(r["exact_match"]), *panels, pct(r.get("degraded_exact_match")),
                      f"{r['wall_minutes']:.1f}"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths)))


def compare(paths: list[Path]) -> None:
    records = crossval.load_records(paths)
    recipes = list(dict.fromkeys(r["recipe"] for r in records))
    if len(recipes) != 2:
        raise SystemExit(f"--compare needs the records of exactly two recipes, got {recipes}")
    a = [r for r in records if r["recipe"] == recipes[0]]
    b = [r for r in records if r["recipe"] == recipes[1]]
    print_table(crossval.summarize(records))
    diff = crossval.paired_difference(a, b, "exact_match_read")
    print(f"\nout-of-fold exact match by predict's decoder, read once, {recipes[0]} (A) minus {recipes[1]} (B), "
          "per seed and fold:")
    for p in diff["pairs"]:
        print(f"  seed {p['seed']} fold {p['fold']}: {100 * p['a']:.2f} - {100 * p['b']:.2f} = "
              f"{100 * p['difference']:+.2f} pp")
    sd = "-" if diff["sd"] is None else f"{100 * diff['sd']:.2f}"
    print(f"mean {100 * diff['mean']:+.2f} pp, sd {sd} pp over {diff['n']} folds; A better in {diff['a_better']}, "
          f"B better in {diff['b_better']}, tied in {diff['ties']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_root", nargs="?", help="Nomeroff-layout root with train/ and val/")
    parser.add_argument("--recipe", default="committed", help=f"recipe name (known: {', '.join(RECIPES)})")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a TrainConfig override")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/cv"), help="run folders (checkpoints, logits)")
    parser.add_argument("--record", type=Path, default=Path("experiments/cv"), help="folder of the JSON records")
    parser.add_argument("--no-proxies", action="store_true", help="skip the tilted, trimmed and degraded reads")
    parser.add_argument("--compare", type=Path, nargs="+", metavar="RECORD", help="compare two recipes' records")
    args = parser.parse_args()
    if args.compare:
        compare(args.compare)
        return
    if not args.data_root:
        parser.error("DATA_ROOT is needed unless --compare is given")
    warnings.filterwarnings("ignore", module="albumentations")
    config = crossval.CVConfig(recipe=args.recipe, train=recipe_config(args.recipe, args.set), k=args.folds,
                               fold_seed=args.fold_seed, seeds=tuple(args.seeds), proxies=not args.no_proxies)
    splits, reports = load_splits(args.data_root, ("train", "val"), progress=True)
    for report in reports.values():
        print(report)
    records = crossval.run_cv(config, splits["train"] + splits["val"], args.out, args.record)
    print()
    print_table(crossval.summarize(records))
    print(f"fine-tuning epochs by the folds' mean held-out curve: {crossval.epochs_from_folds(records)}")
    for record in records:
        trade = crossval.coverage_at(*crossval.oof_readings(record), coverage=0.95)
        print(f"seed {record['seed']}: temperature {record['temperature']:.2f}; at 95% coverage "
              f"(threshold {trade['threshold']:.3f}) the rest read {100 * trade['accuracy']:.2f}% exactly")


if __name__ == "__main__":
    main()
