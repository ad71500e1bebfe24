"""Out of fold, does reading an unsure crop's other views as well read more crops? (`reader.views`)

    python scripts/crop_views_oof.py ../shared/data/vkcv-ocr experiments/cv/winter15_rerun_seed1.json \
        runs/cv/winter15_rerun/seed1 experiments/cv/winter15_rerun_seed2.json runs/cv/winter15_rerun/seed2 \
        --out experiments/crop_views_oof.json

Each RECORD RUN_DIR pair is one cross-validation seed (scripts/cv.py): its record and the folder holding
fold<i>/last.pth, each fold's model never trained on its held-out crops. Each fold's model reads its held-out
crops as `predict` reads (`reader.predict.read_with`: the default decoder at the record's temperature), once and
with `reread_unsure`; the script counts the crops each way reads exactly, their CER, and which crops changed.
DATA_ROOT holds the train and val crops the seeds ran on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr.core import metrics
from anpr_ocr.core.data import Sample, load_splits
from anpr_ocr.reader.checkpoint import load_training_model
from anpr_ocr.reader.loader import Reader
from anpr_ocr.reader.model import CRNNConfig
from anpr_ocr.reader.predict import read_with
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.crossval import assign_folds
from anpr_ocr.research.machine import created_now, environment


def seed_readings(record: dict, run_dir: Path, samples: list[Sample]) -> dict:
    """Both ways of reading one seed's held-out crops, scored, with the crops whose reading changed."""
    folds = assign_folds(samples, record["k"], record["fold_seed"])
    config = CRNNConfig.from_dict(record["train_config"]["model"])
    truths, read = [], {"once": [], "reread": []}
    for fold in range(record["k"]):
        reader = Reader(load_training_model(run_dir / f"fold{fold}" / "last.pth", config), float(record["temperature"]))
        held = [s for s, f in zip(samples, folds) if f == fold]
        if sorted(s.text for s in held) != sorted(c["truth"] for c in record["crops"] if c["fold"] == fold):
            raise ValueError(f"fold {fold} of {run_dir} holds other crops than these samples deal it")
        truths += [s.text for s in held]
        greys = [s.image for s in held]
        read["once"] += [d.text for d in read_with(reader, greys, reread_unsure=False)]
        read["reread"] += [d.text for d in read_with(reader, greys, reread_unsure=True)]
    out = {way: {"read": sum(t == p for t, p in zip(truths, texts)), "n": len(truths),
                 "exact_match": metrics.exact_match(truths, texts), "cer": metrics.cer(truths, texts)}
           for way, texts in read.items()}
    out["changed"] = [{"truth": t, "once": a, "reread": b} for t, a, b in zip(truths, read["once"], read["reread"])
                      if a != b]
    return {"recipe": record["recipe"], "seed": record["seed"], **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_root", help="Nomeroff-layout root with train/ and val/")
    parser.add_argument("pairs", nargs="+", metavar="RECORD RUN_DIR", help="a seed's record and its run folder")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give RECORD RUN_DIR pairs")
    torch.set_num_threads(args.threads)
    splits, _ = load_splits(args.data_root, ("train", "val"))
    samples = [s for name in ("train", "val") for s in splits[name]]
    started = created_now()
    seeds = []
    for record_path, run_dir in zip(args.pairs[::2], args.pairs[1::2]):
        seeds.append(seed_readings(json.loads(Path(record_path).read_text(encoding="utf-8")), Path(run_dir), samples))
        s = seeds[-1]
        print(f"{s['recipe']} seed {s['seed']}: once {s['once']['read']} / {s['once']['n']} (CER "
              f"{100 * s['once']['cer']:.3f}%), rereading the unsure {s['reread']['read']} (CER "
              f"{100 * s['reread']['cer']:.3f}%), {len(s['changed'])} readings changed", flush=True)
    if args.out:
        write_json(args.out, {"seeds": seeds, "started": started, "environment": environment()})


if __name__ == "__main__":
    main()
