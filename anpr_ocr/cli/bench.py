"""`anpr-ocr bench`: the CPU speed benchmark of the committed models (`research.bench`), its JSON, PNG and tables.

The benchmark also times the `predict` command through the command line's entry point, which the
parser hands over as `args.entry_point` (this module cannot import `cli.main`, which imports it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import CliError, HelpFormatter, install_hint


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `bench` to the command line's subparsers."""
    from ..core.shipped import FP32_WEIGHTS, INT8_WEIGHTS
    from ..research.bench import THROUGHPUT_BATCH

    root = os.environ.get("ANPR_DATA")
    p = subparsers.add_parser(
        "bench", help="CPU speed benchmark of the committed models", formatter_class=HelpFormatter,
        description="Benchmark FP32 eager PyTorch, FX INT8, ONNX Runtime FP32 and INT8 in one run: the model\n"
        f"call at batch 1 and {THROUGHPUT_BATCH}, `predict` end to end, and the `predict` command on a folder of "
        "crops\n(see anpr_ocr.research.bench). Writes --out (JSON) and --plot (PNG) and prints the tables.\n"
        f"Needs the train extra for the plot ({install_hint('train')}) and the onnx extra for the ONNX\n"
        f"backends ({install_hint('onnx')}).")
    p.add_argument("--fp32", type=Path, default=FP32_WEIGHTS, metavar="PTH", help="FP32 checkpoint (default: "
                   "the committed one, %(default)s)")
    p.add_argument("--int8", type=Path, default=INT8_WEIGHTS, metavar="PTH",
                   help="FX INT8 checkpoint, as reader.quantize.save_quantized writes it (default: the committed one, "
                   "%(default)s)")
    p.add_argument("--data", type=Path, default=Path(root) / "test" if root else Path("data/test"), metavar="DIR",
                   help="labelled split of crops to score and time on (default: $ANPR_DATA/test, else data/test; "
                   "here %(default)s)")
    p.add_argument("--calib", type=Path, default=None, metavar="DIR",
                   help="split to calibrate ONNX INT8 on (default: val/ beside --data)")
    p.add_argument("--out", type=Path, default=Path("figures/benchmark.json"), metavar="JSON",
                   help="JSON output (default: %(default)s)")
    p.add_argument("--plot", type=Path, default=None, metavar="PNG", help="PNG output (default: --out with .png)")
    p.add_argument("--onnx-dir", type=Path, default=None, metavar="DIR",
                   help="keep the ONNX files here (default: a temporary folder)")
    p.add_argument("--reps", type=int, default=10, metavar="N", help="round-robin repetitions (default: %(default)s)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], metavar="N",
                   help="thread counts (default: 1 2)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, write its JSON and PNG, print its tables; returns the exit status."""
    from ..core.data import load_samples
    from ..report import tables as report
    from ..report.plots import plot_benchmark
    from ..research import bench

    for name in ("fp32", "int8"):
        if not getattr(args, name).is_file():
            raise CliError(f"--{name}: no checkpoint at {getattr(args, name)}")
    if not args.data.exists():
        raise CliError(f"--data: no dataset at {args.data}")
    calib_path = args.calib or args.data.parent / "val"
    if args.calib is not None and not calib_path.exists():
        raise CliError(f"--calib: no dataset at {calib_path}")
    if args.reps < 1 or any(t < 1 for t in args.threads):
        raise CliError("--reps and --threads must be at least 1")
    samples, loaded = load_samples(args.data)
    if not samples:
        raise CliError(f"--data: no usable samples in {args.data} ({loaded})")
    calibration = None
    if calib_path.exists() and calib_path.resolve() != args.data.resolve():
        calibration = [s.image for s in load_samples(calib_path)[0]] or None
    if calibration is None:
        print(f"no calibration split at {calib_path}: ONNX Runtime INT8 is skipped", file=sys.stderr)
    plot = args.plot or args.out.with_suffix(".png")
    result = bench.run_benchmark(args.fp32, args.int8, samples, out_json=args.out, threads=args.threads,
                                 reps=args.reps, calibration=calibration, onnx_dir=args.onnx_dir,
                                 memory=not args.no_memory, cli_main=args.entry_point)
    plot_benchmark(result, plot)
    for n in result["meta"]["threads"]:
        print(report.format_table(result, n))
        print()
    print(report.format_predict_table(result))
    print()
    print(report.format_cli_table(result))
    print(f"wrote {args.out} and {plot}")
    return 0
