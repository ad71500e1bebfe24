"""Score the committed readers again as `predict` reads now, without training or quantizing them again.

    python scripts/rescore_reader.py ../shared/data/vkcv-ocr [--weights weights] [--figures figures] \
        [--readme README.md]

When `predict` changes around a model (its decoder, its second look at unsure crops), the cards that the
training notebook wrote describe the old reading. This scores the checkpoints as the notebook does after
training, with the package's same functions: the FP32 card's `metrics` on each split it scored
(`research.evaluate`), the INT8 card's `metrics` and `reads_by_backend` (`research.make_int8.int8_scores`, the
calibration crops left out as when it was made); the cards' training records stay, and each gains `rescored`
(when, and where). Then the README's results block is written again from the files. The recipe table
(`FIGURES/recipes.json`) is the notebook run's record of its recipes and is not touched.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from anpr_ocr.core.data import load_splits
from anpr_ocr.core.shipped import FP32_WEIGHTS, INT8_WEIGHTS
from anpr_ocr.report.tables import update_readme, write_json
from anpr_ocr.research.evaluate import evaluate
from anpr_ocr.research.machine import created_now, environment
from anpr_ocr.research.make_int8 import CALIBRATION_CROPS, int8_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_root", type=Path, help="Nomeroff-layout root with train/, val/ and test/")
    parser.add_argument("--weights", type=Path, default=Path("weights"), help="the folder of the checkpoints and cards")
    parser.add_argument("--figures", type=Path, default=Path("figures"))
    parser.add_argument("--readme", type=Path, help="rewrite this README's results block")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    splits, _ = load_splits(args.data_root, ("train", "val", "test"))
    fp32_path, int8_path = args.weights / FP32_WEIGHTS.name, args.weights / INT8_WEIGHTS.name
    rescored = {"created": created_now(), "command": "scripts/rescore_reader.py", "environment": environment()}

    card_path = fp32_path.with_suffix(".json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["metrics"] = {name: evaluate(fp32_path, splits[name]).summary() for name in card["metrics"]}
    card["rescored"] = rescored
    write_json(card_path, card)
    print("fp32", json.dumps(card["metrics"]))

    card_path = int8_path.with_suffix(".json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    calibration = int(card["calibration"].split()[0]) if "calibration" in card else CALIBRATION_CROPS
    card.update(int8_scores(fp32_path, int8_path, splits, calibration, "int8_onnx" in card["reads_by_backend"]))
    card["rescored"] = rescored
    write_json(card_path, card)
    print("int8", json.dumps(card["metrics"]))
    if args.readme:
        update_readme(args.readme, args.weights, args.figures)


if __name__ == "__main__":
    main()
