"""Train several recipes one after another and print their validation scores (never test).

Used on a lent GPU machine to choose the recipe; the committed model is trained on the CPU by
the notebook. Usage: python scripts/sweep.py DATA_ROOT FONT TEXTS OUT_DIR NAME=JSON_OVERRIDES ...
"""

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from anpr_ocr.core.data import load_splits
from anpr_ocr.reader.model import CRNNConfig
from anpr_ocr.train.reader import TrainConfig, fit
from anpr_ocr.train.synth import SynthConfig


def main() -> None:
    root, font, texts, out = sys.argv[1:5]
    splits, _ = load_splits(root, ("train", "val"))
    for spec in sys.argv[5:]:
        name, overrides = spec.split("=", 1)
        overrides = json.loads(overrides)
        if "model" in overrides:
            overrides["model"] = CRNNConfig(**{**CRNNConfig().to_dict(), **overrides["model"], "channels": tuple(
                overrides["model"].get("channels", CRNNConfig().channels))})
        config = replace(TrainConfig(out_dir=f"{out}/{name}", synth=SynthConfig(font, texts)), **overrides)
        t = time.time()
        result = fit(config, splits["train"], splits["val"])
        print(json.dumps({"name": name, "best": result.best, "last": result.history[-1],
                          "wall": time.time() - t, "params": result.parameters}), flush=True)
        Path(out, f"{name}.json").write_text(json.dumps(result.history))


if __name__ == "__main__":
    main()
