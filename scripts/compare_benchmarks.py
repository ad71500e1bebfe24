"""Compare the speed ratios of two `anpr-ocr bench` JSONs, figure by figure (ratio of ratios).

    python scripts/compare_benchmarks.py REFERENCE.json OTHER.json [--out FILE]
    python scripts/compare_benchmarks.py 3463ced:figures/benchmark.json OTHER.json   # a committed one

Each figure is a backend's speed against FP32 eager in one run: through `predict` (per decoder, batch 1 and
batch 64, at the run's `predict` thread count) and the bare model call (batch 1 and 64, 2 threads), and what
`predict` adds outside the model at batch 1 (ms). Printed and written: each figure in both runs and OTHER's
divided by REFERENCE's. Used to check how well one machine stands in for another (`scripts/avx2_dispatch.py`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path


def figures(bench: dict) -> dict[str, float]:
    """The run's ratios against FP32 eager and `predict`'s batch-1 time outside the model, by name."""
    out = {}
    for decoder, rows in bench["predict"]["decoders"].items():
        for backend, row in rows.items():
            if backend != "fp32_eager":  # the baseline: 1.0 by definition
                out[f"predict {decoder} {backend} batch 1"] = row["speedup_batch1"]
                out[f"predict {decoder} {backend} batch 64"] = row["speedup_batch64"]
            out[f"predict {decoder} {backend} outside the model, batch 1 (ms)"] = row["adds_batch1_ms"]
    for backend, info in bench["backends"].items():
        timing = info["timing"].get("2")
        if backend != "fp32_eager" and timing:
            out[f"model call {backend} batch 1"] = timing["speedup_batch1"]
            out[f"model call {backend} batch 64"] = timing["speedup_batch64"]
    return out


def compare(reference: dict, other: dict) -> list[dict]:
    """Each figure both runs have: its value in each and OTHER / REFERENCE."""
    ref, oth = figures(reference), figures(other)
    return [{"figure": k, "reference": ref[k], "other": oth[k], "other_over_reference": oth[k] / ref[k]}
            for k in ref if k in oth]


def read_bench(spec: str) -> dict:
    """A benchmark JSON from a file, or from git as REVISION:PATH when no such file exists."""
    if Path(spec).is_file() or ":" not in spec:
        return json.loads(Path(spec).read_text())
    return json.loads(subprocess.run(["git", "show", spec], capture_output=True, text=True, check=True).stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", help="a benchmark JSON, or REVISION:PATH of a committed one")
    parser.add_argument("other", help="the same")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = compare(read_bench(args.reference), read_bench(args.other))
    for r in rows:
        print(f"{r['figure']:<62} {r['reference']:8.3f} {r['other']:8.3f}  {r['other_over_reference']:6.3f}")
    if args.out is not None:
        args.out.write_text(json.dumps({"reference": args.reference, "other": args.other, "rows": rows},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
