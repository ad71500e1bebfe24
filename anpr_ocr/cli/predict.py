"""`anpr-ocr predict CROP_OR_DIR ... [--json] [--workers N]`: read plate crops, one line per image.

The command streams: folders are walked lazily, images are decoded (in worker processes with
--workers) and read batch by batch, and each batch's lines are printed as soon as it is read, so
memory stays constant however many files there are; a progress bar goes to stderr when it is a
terminal. An unreadable image is skipped with a one-line message on stderr, and the exit status
is 1 at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..core.images import read_files
from .common import (
    CliError,
    HelpFormatter,
    Skips,
    add_quiet_option,
    add_read_once_option,
    add_reader_options,
    add_reading_options,
    flags,
    iter_inputs,
    printing_beside,
    progress_bar,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `predict` to the command line's subparsers."""
    p = subparsers.add_parser(
        "predict", help="read plate crops (images of one plate each)", formatter_class=HelpFormatter,
        description="Read plate crops: image files, or folders searched recursively for image files (in sorted\n"
        "order). Prints one tab-separated line per image (path, text, confidence, plate type, and\n"
        "'invalid' / 'FLAGGED' where they apply), or JSON Lines with --json, batch by batch as they\n"
        "are read. An unreadable image is skipped with a line on stderr; the exit status is then 1.")
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    add_reader_options(p)
    add_read_once_option(p)
    p.add_argument("--json", action="store_true", help="print JSON Lines: one JSON object per image (path, text, "
                   "confidence, char_confidences, plate_type, valid, flagged)")
    add_reading_options(p)
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes that decode image files; 0 decodes in this process (default: %(default)s)")
    add_quiet_option(p, "image")
    return p


def run(args: argparse.Namespace) -> int:
    """Read the crops; returns the exit status."""
    from ..reader.loader import load_reader
    from ..reader.predict import check_options, predict

    check_options(args.alphabet, args.decoder, args.backend, args.min_confidence, args.batch_size)
    if args.workers < 0:
        raise CliError(f"--workers must be 0 or more, got {args.workers}")
    load_reader(args.weights, args.backend)  # a bad checkpoint fails here, before any image is read
    skips = Skips(args.quiet, "image")
    bar = progress_bar(args.quiet, " plates")
    try:
        for batch in read_batches(iter_inputs(args.inputs), args.batch_size, args.workers):
            good = [(path, grey) for path, grey in batch if not isinstance(grey, str)]  # str: why it failed
            readings = predict([grey for _, grey in good], args.weights, args.alphabet, args.decoder,
                               args.min_confidence, args.batch_size, args.backend,
                               not args.read_once) if good else []
            lines = [_line(str(path), r, args.json) for (path, _), r in zip(good, readings)]
            with printing_beside(bar):
                for path, reason in batch:
                    if isinstance(reason, str):
                        skips.skip(path, reason)
                if lines:
                    print("\n".join(lines), flush=True)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return skips.finish()


def read_batches(paths: Iterable[Path], batch_size: int, workers: int) -> Iterator[list[tuple[Path, Any]]]:
    """Batches of decoded images (or the reason one cannot be read) in input order; with workers, at
    most 2 * workers batches are in flight (decoded ahead of the model), so memory stays bounded
    however long the input is."""
    batches = _chunks(paths, batch_size)
    if workers == 0:
        yield from map(read_files, batches)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")  # workers forked from a clean process, not this threaded one
    context.set_forkserver_preload(["anpr_ocr.core.images"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:  # a dead worker raises, never hangs
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(read_files, batch))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of `size` items (the last may be shorter), drawn lazily."""
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _line(path: str, r, as_json: bool) -> str:
    """One reading as a tab-separated line, or as one JSON object (JSON Lines)."""
    if as_json:
        return json.dumps({"path": path, **asdict(r)}, ensure_ascii=False)
    return f"{path}\t{r.text}\t{r.confidence:.3f}\t{r.plate_type or '-'}{flags(r)}"
