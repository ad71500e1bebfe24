"""`anpr-ocr eval DATA/SPLIT [--json]`: score the reader on a labelled split of crops, as `predict` reads."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import CROP_LAYOUT, CliError, HelpFormatter, add_read_once_option, add_reader_options


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `eval` to the command line's subparsers."""
    p = subparsers.add_parser(
        "eval", help="score the reader on a labelled split of crops", formatter_class=HelpFormatter,
        description="Read a labelled split of crops, as predict reads them (the same decoder and confidence), and\n"
        f"print exact match, CER and a per-format table.\n\ndata layout of the split, one of:\n{CROP_LAYOUT}")
    p.add_argument("data", metavar="DATA/SPLIT")
    add_reader_options(p)
    add_read_once_option(p)
    p.add_argument("--json", action="store_true", help="print the scores as one indented JSON object")
    return p


def run(args: argparse.Namespace) -> int:
    """Score the split; returns the exit status."""
    from ..core import metrics
    from ..core.data import load_samples
    from ..reader.predict import check_options, read_greys

    check_options("latin", args.decoder, args.backend, 0.5, args.batch_size)
    samples, report = load_samples(args.data)
    if not samples:
        raise CliError(f"no readable labelled samples in {args.data} ({report})")
    decoded = read_greys([s.image for s in samples], args.weights, args.decoder, args.batch_size, args.backend,
                         not args.read_once)
    truths = [s.text for s in samples]
    preds = [d.text for d in decoded]
    scores = {"data": str(args.data), "decoder": args.decoder, "reread_unsure": not args.read_once,
              "backend": args.backend, "n": len(samples),
              "skipped": sum(report.skipped.values()), "skipped_reasons": dict(report.skipped),
              "exact_match": metrics.exact_match(truths, preds), "cer": metrics.cer(truths, preds),
              "by_format": metrics.grouped(truths, preds)}
    if args.json:
        print(json.dumps(scores, ensure_ascii=False, indent=1))
        return 0
    print(report)
    print(f"decoder {args.decoder}: exact match {scores['exact_match']:.4f}  CER {scores['cer']:.4f}  "
          f"({len(samples)} plates, {scores['skipped']} skipped)")
    print(f"{'format':<16}{'n':>6}{'exact':>9}{'CER':>9}")
    for name, row in scores["by_format"].items():
        print(f"{name:<16}{row['n']:>6}{row['exact_match']:>9.4f}{row['cer']:>9.4f}")
    return 0
