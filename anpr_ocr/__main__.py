"""Command line: `python -m anpr_ocr {predict,eval,train,bench} ...` (installed as `anpr-ocr`).

    anpr-ocr predict crop.png more_crops/ [--json] [--workers 2] [--alphabet cyrillic] [--decoder format]
    anpr-ocr eval DATA/val [--weights W]
    anpr-ocr train --data DATA --out RUN [--pretrain-epochs N] [--finetune-epochs N] [--limit N] ...
    torchrun --nproc_per_node N -m anpr_ocr train ...   (data-parallel over N processes)
    anpr-ocr read photo.jpg photos/ [--json] [--draw OUT_DIR]   (find and read plates in whole photos)
    anpr-ocr video clip.mp4 [--json] [--every N] [--draw OUT.mp4]   (one reading per plate that passes)
    anpr-ocr bench [--fp32 W] [--int8 W] [--data DATA/test] [--out figures/benchmark.json]

`predict` streams: folders are walked lazily, images are decoded (in worker processes with
--workers) and read batch by batch, and each batch's lines are printed as soon as it is read, so
memory stays constant however many files there are; a progress bar goes to stderr when it is a
terminal. An unreadable image is skipped with a one-line message on stderr and exit code 1 at the end.

Exit code 0 on success; on error a one-line message on stderr and a non-zero code (1 for a bad
input or checkpoint, 2 for bad usage), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .decode import DECODERS
from .preprocess import IMAGE_SUFFIXES, read_files
from .video import cli as video_cli


class CliError(Exception):
    """An error to report in one line, without a traceback."""


def _parser() -> argparse.ArgumentParser:
    from .predict import DEFAULT_DECODER

    parser = argparse.ArgumentParser(prog="anpr-ocr",
                                     description="Read Russian licence plates from cropped plate images.")
    sub = parser.add_subparsers(dest="command", metavar="{predict,eval,read,video,train,bench}")
    sub.required = True

    def reading_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--alphabet", choices=("latin", "cyrillic"), default="latin",
                       help="letters as Latin look-alikes (default) or as the Cyrillic printed on plates")
        p.add_argument("--min-confidence", type=float, default=0.5,
                       help="readings below this confidence are flagged (default: 0.5)")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--weights", help="checkpoint to use (default: the committed model or $ANPR_OCR_WEIGHTS)")
        p.add_argument("--decoder", choices=DECODERS, default=DEFAULT_DECODER,
                       help=f"CTC decoder (default: {DEFAULT_DECODER})")
        p.add_argument("--batch-size", type=int, default=64, help="images per model call (default: 64)")

    p = sub.add_parser("predict", help="read plate crops", description="Read plate crops: files, or folders "
                       "(searched recursively for image files, in sorted order). One line per image, or one JSON "
                       "object per line with --json, printed batch by batch; unreadable images are skipped "
                       "with a message on stderr (exit code 1).")
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    common(p)
    p.add_argument("--json", action="store_true", help="print JSON Lines: one JSON object per reading")
    reading_options(p)
    p.add_argument("--workers", type=int, default=0,
                   help="processes that decode image files (default: 0, in this process)")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")

    e = sub.add_parser("eval", help="score the model on a labelled split",
                       description="Read a labelled split (Nomeroff img/+ann/ folder, a folder of "
                       "labelled file names, or a CSV) and print exact match, CER and a per-format table.")
    e.add_argument("data", metavar="DATA_DIR/SPLIT")
    common(e)
    e.add_argument("--json", action="store_true", help="print the scores as JSON")

    t = sub.add_parser("train", help="train a model (the committed recipe by default)",
                       description="Train as the notebook does (anpr_ocr.train.fit; defaults: the committed "
                       "recipe) on DATA/train, selecting on DATA/val, and write OUT/best.pth, history.json and "
                       "config.json. Under `torchrun --nproc_per_node N -m anpr_ocr train ...` it trains "
                       "data-parallel over N processes.")
    t.add_argument("--data", required=True, metavar="DIR",
                   help="a folder with train/ and val/ (Nomeroff img/+ann/, or labelled file names)")
    t.add_argument("--out", required=True, metavar="DIR", help="where the run's files go")
    for flag, what in (("--pretrain-epochs", "epochs of synthetic plates only"),
                       ("--finetune-epochs", "epochs over the real train split"),
                       ("--synth-per-epoch", "plates rendered per pretraining epoch"), ("--seed", "random seed"),
                       ("--threads", "torch threads, shared by the processes on one machine")):
        t.add_argument(flag, type=int, metavar="N", help=f"{what} (default: the recipe's)")
    t.add_argument("--limit", type=int, metavar="N", help="train and select on the first N crops of each split "
                   "(smoke runs)")
    t.add_argument("--font", help="plate typeface (default: $ANPR_FONT or ../shared/fonts/RoadNumbers2.0.ttf)")
    t.add_argument("--texts", help="real plate strings, one a line (default: $ANPR_TEXTS or "
                   "../shared/data/plate_texts.txt)")
    t.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto takes a GPU when there is one (default: auto)")
    t.add_argument("--resume", action="store_true", help="go on from OUT/last.pth if it holds this run")

    r = sub.add_parser("read", help="find and read plates in whole photos",
                       description="Find the plates in photos (files, or folders searched recursively) and read "
                       "them: one line per plate (photo, text, confidence, detector score, box), or JSON with --json.")
    r.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR")
    common(r)
    r.add_argument("--detector", help="detector checkpoint (default: the committed one or $ANPR_DETECTOR_WEIGHTS)")
    r.add_argument("--json", action="store_true", help="print a JSON list: one entry a photo, with its readings")
    reading_options(r)
    r.add_argument("--threshold", type=float, default=None,
                   help="detector score a plate must reach (default: the one stored with the detector)")
    r.add_argument("--min-width", type=float, default=None,
                   help="smallest plate width reported, photo px (default: anpr_ocr.read.MIN_PLATE_WIDTH)")
    r.add_argument("--min-reading-confidence", type=float, default=None,
                   help="reader confidence a reading needs to be reported; 0 reports every detection "
                   "(default: anpr_ocr.read.MIN_READING_CONFIDENCE)")
    r.add_argument("--draw", metavar="OUT_DIR", help="also write each photo with its plates outlined and read")

    _bench_parser(sub)
    video_cli.add_parser(sub)
    return parser


def _bench_parser(sub) -> None:
    from .bench import THROUGHPUT_BATCH
    from .predict import DEFAULT_WEIGHTS

    root = os.environ.get("ANPR_DATA")
    b = sub.add_parser("bench", help="CPU speed benchmark of the committed models",
                       description="Benchmark FP32 eager PyTorch, FX INT8, ONNX Runtime FP32 and INT8 in one run: "
                       f"the model call at batch 1 and {THROUGHPUT_BATCH}, `predict` end to end, and the "
                       "`predict` command on a folder of crops (see anpr_ocr.bench).")
    b.add_argument("--fp32", type=Path, default=DEFAULT_WEIGHTS, help="FP32 checkpoint")
    b.add_argument("--int8", type=Path, default=DEFAULT_WEIGHTS.with_name("crnn_ocr_model_int8_fx.pth"),
                   help="FX INT8 checkpoint (anpr_ocr.quantize.save_quantized)")
    b.add_argument("--data", type=Path, default=Path(root) / "test" if root else Path("data/test"),
                   help="labelled split to score and time on (default $ANPR_DATA/test or data/test)")
    b.add_argument("--calib", type=Path, default=None,
                   help="split to calibrate ONNX INT8 on (default: 'val' beside --data)")
    b.add_argument("--out", type=Path, default=Path("figures/benchmark.json"), help="JSON output")
    b.add_argument("--plot", type=Path, default=None, help="PNG output (default: --out with .png)")
    b.add_argument("--onnx-dir", type=Path, default=None, help="keep the ONNX files here (default: temp)")
    b.add_argument("--reps", type=int, default=10, help="round-robin repetitions (default 10)")
    b.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    b.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")


def iter_inputs(inputs: list[str]) -> Iterator[Path]:
    """Files as given; folders walked lazily for image files (recursively, in sorted order).

    Every input is checked to exist before the first path comes out; a folder without image
    files is reported when the walk reaches it."""
    paths = [Path(item) for item in inputs]
    for path in paths:
        if not path.exists():
            raise CliError(f"no such file or folder: {path}")
    for path in paths:
        if path.is_dir():
            found = 0
            for image in _walk(path):
                found += 1
                yield image
            if not found:
                raise CliError(f"no image files in folder {path}")
        else:
            yield path


def _walk(folder: Path) -> Iterator[Path]:
    """Image files under `folder`, depth first with each folder's entries sorted by name: the order
    of `sorted(folder.rglob(...))`, without holding the whole listing."""
    with os.scandir(folder) as entries:
        ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered:
        if entry.is_dir(follow_symlinks=False):  # as rglob: linked folders are not entered (no loops)
            yield from _walk(Path(entry.path))
        elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES and entry.is_file():
            yield Path(entry.path)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of `size` items (the last may be shorter), drawn lazily."""
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _read_batches(paths: Iterable[Path], batch_size: int, workers: int) -> Iterator[list[tuple[Path, Any]]]:
    """Batches of decoded images in input order; with workers, at most 2 * workers batches are in
    flight (decoded ahead of the model), so memory stays bounded however long the input is."""
    batches = _chunks(paths, batch_size)
    if workers == 0:
        yield from map(read_files, batches)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")  # workers forked from a clean process, not this threaded one
    context.set_forkserver_preload(["anpr_ocr.preprocess"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:  # a dead worker raises, never hangs
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(read_files, batch))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _predict(args: argparse.Namespace) -> int:
    from .predict import _check_options, _reader, predict

    _check_options(args.alphabet, args.decoder, "torch", args.min_confidence, args.batch_size)
    if args.workers < 0:
        raise CliError(f"--workers must be 0 or more, got {args.workers}")
    _reader(args.weights)  # a bad checkpoint fails here, before any image is read
    failed = 0
    bar = _progress_bar(args.quiet)
    try:
        for batch in _read_batches(iter_inputs(args.inputs), args.batch_size, args.workers):
            good = [(path, grey) for path, grey in batch if not isinstance(grey, str)]  # str: why it failed
            readings = predict([grey for _, grey in good], args.weights, args.alphabet, args.decoder,
                               args.min_confidence, args.batch_size) if good else []
            lines = [_line(str(path), r, args.json) for (path, _), r in zip(good, readings)]
            with bar.external_write_mode(file=sys.stdout) if bar is not None else contextlib.nullcontext():
                for path, reason in batch:
                    if isinstance(reason, str):
                        failed += 1
                        print(f"anpr-ocr: skipped {path}: {reason}", file=sys.stderr)
                if lines:
                    print("\n".join(lines), flush=True)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return 1 if failed else 0


def _progress_bar(quiet: bool):
    """A tqdm bar on stderr when it is a terminal and tqdm (the train extra) is installed; else None."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(unit=" plates", file=sys.stderr, disable=quiet or not _is_tty(sys.stderr))


def _line(path: str, r, as_json: bool) -> str:
    """One reading as a tab-separated line, or as one JSON object (JSON Lines)."""
    if as_json:
        return json.dumps({"path": path, **asdict(r)}, ensure_ascii=False)
    return f"{path}\t{r.text}\t{r.confidence:.3f}\t{r.plate_type or '-'}{_flags(r)}"


def _flags(r) -> str:
    """What a text line says after a reading that is not a valid plate, or is flagged."""
    return ("" if r.valid else "  invalid") + ("  FLAGGED" if r.flagged else "")


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _eval(args: argparse.Namespace) -> int:
    from . import metrics
    from .data import load_samples
    from .predict import read_greys

    samples, report = load_samples(args.data)
    if not samples:
        raise CliError(f"no readable labelled samples in {args.data} ({report})")
    decoded = read_greys([s.image for s in samples], args.weights, args.decoder, args.batch_size)
    truths = [s.text for s in samples]
    preds = [d.text for d in decoded]
    scores = {"data": str(args.data), "decoder": args.decoder, "n": len(samples),
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


def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .data import load_splits
    from .train import TrainConfig, fit, is_main_process, recipe_synth

    recipe = {"pretrain_epochs": args.pretrain_epochs, "finetune_epochs": args.finetune_epochs,
              "synth_per_epoch": args.synth_per_epoch, "seed": args.seed, "threads": args.threads}
    for name, value in {**recipe, "limit": args.limit}.items():
        least = 1 if name in ("limit", "threads") else 0
        if value is not None and value < least:
            raise CliError(f"--{name.replace('_', '-')} must be at least {least}, got {value}")
    for flag, path in (("--font", args.font), ("--texts", args.texts)):
        if path is not None and not Path(path).is_file():
            raise CliError(f"{flag}: no such file: {path}")
    synth = recipe_synth()  # $ANPR_FONT / $ANPR_TEXTS or ../shared, else a fallback, as in the notebook
    synth = replace(synth, font_path=args.font or synth.font_path, texts_path=args.texts or synth.texts_path)
    config = TrainConfig(out_dir=args.out, synth=synth, device=args.device, resume=args.resume,
                         **{k: v for k, v in recipe.items() if v is not None})
    if config.pretrain_epochs + config.finetune_epochs == 0:
        raise CliError("nothing to train: --pretrain-epochs and --finetune-epochs are both 0")
    main_process = is_main_process()  # under torchrun only rank 0 prints
    if main_process and synth.font_path is None:
        print("NOTE: no plate typeface (--font, $ANPR_FONT, ../shared/fonts): rendering with DejaVu Sans instead")
    if main_process and synth.texts_path is None:
        print("NOTE: no plate strings (--texts, $ANPR_TEXTS, ../shared/data): synthetic texts are drawn at random")

    root = Path(args.data)
    splits, reports = load_splits(root, ("train", "val"), progress=main_process)
    for name, samples in splits.items():
        if main_process:
            print(reports[name])
        if not samples:
            raise CliError(f"no readable labelled crops in {root / name} ({reports[name]})")
        if args.limit is not None:
            splits[name] = samples[:args.limit]
    result = fit(config, splits["train"], splits["val"])
    if main_process:
        best = result.best
        print(f"trained on {len(splits['train'])} crops, selected on {len(splits['val'])}: best val exact match "
              f"{best['val_exact_match']:.4f}, CER {best['val_cer']:.4f} at epoch {best['epoch']} ({best['stage']}), "
              f"{result.wall_seconds / 60:.1f} min; wrote {result.best_path}")
    return 0


def _read(args: argparse.Namespace) -> int:
    import cv2

    from .read import MIN_PLATE_WIDTH, MIN_READING_CONFIDENCE, draw_readings, read_plates

    min_width = MIN_PLATE_WIDTH if args.min_width is None else args.min_width
    floor = MIN_READING_CONFIDENCE if args.min_reading_confidence is None else args.min_reading_confidence
    for path in iter_inputs(args.inputs):  # one photo a call: a long folder streams, and a bad file names itself
        # with --draw the photo is decoded once, in colour, for both the reading and the drawing
        image = cv2.imread(str(path), cv2.IMREAD_COLOR) if args.draw else None
        if args.draw and image is None:
            raise CliError(f"{path} is not a readable image")
        readings = read_plates(str(path) if image is None else image, args.weights, args.detector, args.alphabet,
                               args.decoder, args.min_confidence, args.threshold, min_width,
                               min_reading_confidence=floor, batch_size=args.batch_size)
        if args.draw:
            out = Path(args.draw) / f"{path.stem}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(out), draw_readings(image, readings)):
                raise CliError(f"cannot draw {path} into {out}")
        if args.json:  # JSON Lines: one object a photo, with its readings
            print(json.dumps({"path": str(path), "plates": [asdict(r) for r in readings]}, ensure_ascii=False),
                  flush=True)
        else:
            for r in readings:
                box = ",".join(f"{v:.0f}" for v in r.box)
                print(f"{path}\t{r.text}\t{r.confidence:.3f}\t{r.score:.3f}\t{box}{_flags(r)}", flush=True)
            if not readings:
                print(f"{path}\t-", flush=True)
    return 0


def _bench(args: argparse.Namespace) -> int:
    """Run the benchmark, write its JSON and PNG, print its tables."""
    from . import bench, report
    from .data import load_samples

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
                                 memory=not args.no_memory, plot=plot)
    for n in result["meta"]["threads"]:
        print(report.format_table(result, n))
        print()
    print(report.format_predict_table(result))
    print()
    print(report.format_cli_table(result))
    print(f"wrote {args.out} and {plot}")
    return 0


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what C libraries (libpng, libjpeg via OpenCV) write straight to file descriptor 2,
    so that an error is reported in our one line only. Python-level output is unaffected."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (embedded use): nothing to silence
        yield
        return
    python_stderr = sys.stderr
    try:
        with open(os.devnull, "w") as devnull, os.fdopen(os.dup(saved), "w") as real:
            os.dup2(devnull.fileno(), 2)
            if _fileno(python_stderr) == 2:
                sys.stderr = real  # our own messages still reach the terminal
            yield
    finally:
        sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        if args.command == "bench":
            return _bench(args)
        with _quiet_native_stderr():
            if args.command == "predict":
                return _predict(args)
            if args.command == "train":
                return _train(args)
            if args.command == "read":
                return _read(args)
            if args.command == "video":
                return video_cli.run(args)
            return _eval(args)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2, message already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BrokenPipeError:  # e.g. `anpr-ocr predict dir/ | head`: stop quietly
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("anpr-ocr: interrupted", file=sys.stderr)
        return 130
    except CliError as exc:
        print(f"anpr-ocr: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError, NotImplementedError, ImportError) as exc:
        print(f"anpr-ocr: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything unexpected still gets one line, not a traceback
        print(f"anpr-ocr: error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
