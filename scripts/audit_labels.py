"""List the crops of a split whose label every given model contradicts with the same plate string.

    python scripts/audit_labels.py DATA_ROOT SPLIT CHECKPOINT [CHECKPOINT ...] [--gallery FILE.png]

Give synthetic-only checkpoints (a run's best_pretrain.pth): they never saw a real label. Prints one
line per suspect crop (file, label, reading) and a count; --gallery draws them, titled "label > reading",
for a person to judge. Audit train and val, never test: test is scored, not cleaned.
"""

import argparse
import warnings

import torch

from anpr_ocr.core.data import load_splits
from anpr_ocr.reader.checkpoint import load_model
from anpr_ocr.report import plots
from anpr_ocr.research.audit import contradicted_labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_root", help="Nomeroff-layout root")
    parser.add_argument("split", choices=("train", "val"))
    parser.add_argument("checkpoints", nargs="+", help="synthetic-only checkpoints")
    parser.add_argument("--gallery", help="draw the suspects into this PNG")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="albumentations")
    torch.set_num_threads(2)
    splits, _ = load_splits(args.data_root, (args.split,))
    samples = splits[args.split]
    suspects = contradicted_labels([load_model(c).eval() for c in args.checkpoints], samples)
    for s in suspects:
        print(f"{s.source}\tlabel {s.label}\tread {s.reading}")
    print(f"{len(suspects)} of {len(samples)} {args.split} labels contradicted by all {len(args.checkpoints)} models")
    if args.gallery and suspects:
        plots.image_grid([samples[s.index].image for s in suspects], [f"{s.label} > {s.reading}" for s in suspects],
                         cols=4, path=args.gallery)


if __name__ == "__main__":
    main()
