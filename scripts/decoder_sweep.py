"""Score the format-aware decoder's `max_ratio` on a recipe's out-of-fold logits (no training).

    python scripts/decoder_sweep.py --recipe committed --records experiments/cv --runs runs/cv
                                    [--ratios 1 3 10 20 50 200 1e9] [--out experiments/decoder_sweep.json]

For each seed of the recipe, the held-out logits of its folds (RUNS/<recipe>/seed<s>/fold<i>/oof.npz,
written by scripts/cv.py) are decoded at the seed's fitted temperature with each `max_ratio`, and scored
against the record's truths: exact match and CER per seed and pooled over the seeds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from anpr_ocr.core import metrics
from anpr_ocr.reader.decode import decode, softmax
from anpr_ocr.report.tables import write_json
from anpr_ocr.research import crossval
from anpr_ocr.research.machine import created_now, environment


def seed_logits(record: dict, runs: Path) -> tuple[np.ndarray, list[str]]:
    """The record's out-of-fold logits in the order of its `crops`, and their truths."""
    folder = runs / record["recipe"] / f"seed{record['seed']}"
    logits, truths = [], []
    for fold in range(record["k"]):
        with np.load(folder / f"fold{fold}" / "oof.npz") as saved:
            logits.append(saved["logits"])
            truths.extend(saved["truths"].tolist())
    if truths != [c["truth"] for c in record["crops"]]:
        raise ValueError(f"{folder}: the saved logits are not those of the record (rerun scripts/cv.py)")
    return np.concatenate(logits), truths


def sweep(records: list[dict], runs: Path, ratios: list[float]) -> list[dict]:
    """One row per ratio: exact match and CER per seed and pooled over the seeds."""
    decoded = [(r, *seed_logits(r, runs)) for r in records]
    rows = []
    for ratio in ratios:
        row: dict = {"max_ratio": ratio, "seeds": {}}
        all_truths, all_reads = [], []
        for record, logits, truths in decoded:
            probs = softmax(logits.astype(np.float64) / record["temperature"])
            reads = [d.text for d in decode(probs, "format", max_ratio=ratio)]
            row["seeds"][record["seed"]] = {"read": sum(t == p for t, p in zip(truths, reads)), "n": len(truths),
                                            "cer": metrics.cer(truths, reads)}
            all_truths += truths
            all_reads += reads
        row.update(read=sum(t == p for t, p in zip(all_truths, all_reads)), n=len(all_truths),
                   exact_match=metrics.exact_match(all_truths, all_reads), cer=metrics.cer(all_truths, all_reads))
        rows.append(row)
        per_seed = ", ".join(f"seed {s} {v['read']}/{v['n']}" for s, v in row["seeds"].items())
        print(f"max_ratio {ratio:g}: {row['read']} of {row['n']} read ({100 * row['exact_match']:.2f}%), "
              f"CER {100 * row['cer']:.3f}% ({per_seed})", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="committed")
    parser.add_argument("--records", type=Path, default=Path("experiments/cv"), help="folder of the CV records")
    parser.add_argument("--runs", type=Path, default=Path("runs/cv"), help="scripts/cv.py's run folders")
    parser.add_argument("--ratios", type=float, nargs="+", default=[1, 3, 10, 20, 50, 200, 1e9])
    parser.add_argument("--out", type=Path, help="write the rows here as JSON")
    args = parser.parse_args()
    records = crossval.load_records(sorted(args.records.glob(f"{args.recipe}_seed*.json")))
    if not records:
        raise SystemExit(f"no records of {args.recipe!r} in {args.records}")
    rows = sweep(records, args.runs, args.ratios)
    if args.out:
        names = [f"{args.recipe}_seed{r['seed']}.json" for r in records]
        write_json(args.out, {"recipe": args.recipe, "records": names,
                              "rows": rows, "environment": environment(),
                              "created": created_now()})

if __name__ == "__main__":
    main()
