"""Command line: `python -m anpr_ocr {predict,eval,bench} ...` (installed as `anpr-ocr`).

    anpr-ocr predict crop.png more_crops/ [--json] [--alphabet cyrillic] [--decoder format]
    anpr-ocr eval DATA/val [--weights W]
    anpr-ocr bench ...            (arguments go to anpr_ocr.bench)
    anpr-ocr read photo.jpg photos/ [--json] [--draw OUT_DIR]   (find and read plates in whole photos)

Exit code 0 on success; on error a one-line message on stderr and a non-zero code (1 for a bad
input or checkpoint, 2 for bad usage), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from .decode import DECODERS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class CliError(Exception):
    """An error to report in one line, without a traceback."""


def _parser() -> argparse.ArgumentParser:
    from .predict import DEFAULT_DECODER

    parser = argparse.ArgumentParser(prog="anpr-ocr", description="Read Russian licence plates from cropped plate images.")
    sub = parser.add_subparsers(dest="command", metavar="{predict,eval,read,bench}")
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--weights", help="checkpoint to use (default: the committed model or $ANPR_OCR_WEIGHTS)")
        p.add_argument("--decoder", choices=DECODERS, default=DEFAULT_DECODER,
                       help=f"CTC decoder (default: {DEFAULT_DECODER})")
        p.add_argument("--batch-size", type=int, default=64, help="images per model call (default: 64)")

    p = sub.add_parser("predict", help="read plate crops", description="Read plate crops: files, or folders "
                       "(searched recursively for image files). One line per image, or JSON with --json.")
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    common(p)
    p.add_argument("--json", action="store_true", help="print a JSON list of readings")
    p.add_argument("--alphabet", choices=("latin", "cyrillic"), default="latin",
                   help="letters as Latin look-alikes (default) or as the Cyrillic printed on plates")
    p.add_argument("--min-confidence", type=float, default=0.5,
                   help="readings below this confidence are flagged (default: 0.5)")
    p.add_argument("--keep-going", action="store_true",
                   help="skip unreadable images (reported on stderr, exit code 1) instead of stopping")

    e = sub.add_parser("eval", help="score the model on a labelled split",
                       description="Read a labelled split (Nomeroff img/+ann/ folder, a folder of "
                       "labelled file names, or a CSV) and print exact match, CER and a per-format table.")
    e.add_argument("data", metavar="DATA_DIR/SPLIT")
    common(e)
    e.add_argument("--json", action="store_true", help="print the scores as JSON")

    r = sub.add_parser("read", help="find and read plates in whole photos",
                       description="Find the plates in photos (files, or folders searched recursively) and read "
                       "them: one line per plate (photo, text, confidence, detector score, box), or JSON with --json.")
    r.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR")
    common(r)
    r.add_argument("--detector", help="detector checkpoint (default: the committed one or $ANPR_DETECTOR_WEIGHTS)")
    r.add_argument("--json", action="store_true", help="print a JSON list: one entry a photo, with its readings")
    r.add_argument("--alphabet", choices=("latin", "cyrillic"), default="latin",
                   help="letters as Latin look-alikes (default) or as the Cyrillic printed on plates")
    r.add_argument("--min-confidence", type=float, default=0.5,
                   help="readings below this confidence are flagged (default: 0.5)")
    r.add_argument("--threshold", type=float, default=None,
                   help="detector score a plate must reach (default: the one stored with the detector)")
    r.add_argument("--min-width", type=float, default=None,
                   help="smallest plate width reported, photo px (default: anpr_ocr.read.MIN_PLATE_WIDTH)")
    r.add_argument("--draw", metavar="OUT_DIR", help="also write each photo with its plates outlined and read")

    sub.add_parser("bench", help="speed benchmark (arguments go to anpr_ocr.bench; see `bench --help`)",
                   add_help=False)
    return parser


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given; folders become their image files (recursively, sorted)."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise CliError(f"no image files in folder {path}")
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        else:
            raise CliError(f"no such file or folder: {path}")
    return paths


def _predict(args: argparse.Namespace) -> int:
    from .predict import _reader, predict

    paths = expand_inputs(args.inputs)
    _reader(args.weights)  # a bad checkpoint fails here, before any image is read
    failed = 0
    readings = []
    if args.keep_going:
        for path in paths:
            try:
                readings.append((path, predict(path, args.weights, args.alphabet, args.decoder,
                                               args.min_confidence, args.batch_size)))
            except (ValueError, TypeError, OSError) as exc:
                failed += 1
                print(f"anpr-ocr: skipped {path}: {_one_line(exc)}", file=sys.stderr)
    else:
        results = predict([str(p) for p in paths], args.weights, args.alphabet, args.decoder,
                          args.min_confidence, args.batch_size)
        readings = list(zip(paths, results))
    if args.json:
        rows = [{"path": str(path), "text": r.text, "confidence": r.confidence,
                 "char_confidences": list(r.char_confidences), "plate_type": r.plate_type,
                 "valid": r.valid, "flagged": r.flagged} for path, r in readings]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for path, r in readings:
            flags = ("" if r.valid else "  invalid") + ("  FLAGGED" if r.flagged else "")
            print(f"{path}\t{r.text}\t{r.confidence:.3f}\t{r.plate_type or '-'}{flags}")
    return 1 if failed else 0


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


def _read(args: argparse.Namespace) -> int:
    import cv2

    from .read import MIN_PLATE_WIDTH, draw_readings, read_plates

    paths = expand_inputs(args.inputs)
    min_width = MIN_PLATE_WIDTH if args.min_width is None else args.min_width
    rows = []
    for path in paths:  # one photo a call: a long folder streams, and a bad file names itself
        readings = read_plates(str(path), args.weights, args.detector, args.alphabet, args.decoder,
                               args.min_confidence, args.threshold, min_width, args.batch_size)
        if args.draw:
            out = Path(args.draw) / f"{path.stem}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or not cv2.imwrite(str(out), draw_readings(image, readings)):
                raise CliError(f"cannot draw {path} into {out}")
        if args.json:
            rows.append({"path": str(path), "plates": [
                {"text": r.text, "confidence": r.confidence, "char_confidences": list(r.char_confidences),
                 "plate_type": r.plate_type, "valid": r.valid, "flagged": r.flagged, "box": list(r.box),
                 "corners": [list(c) for c in r.corners], "score": r.score} for r in readings]})
        else:
            for r in readings:
                flags = ("" if r.valid else "  invalid") + ("  FLAGGED" if r.flagged else "")
                box = ",".join(f"{v:.0f}" for v in r.box)
                print(f"{path}\t{r.text}\t{r.confidence:.3f}\t{r.score:.3f}\t{box}{flags}", flush=True)
            if not readings:
                print(f"{path}\t-", flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


def _bench(argv: list[str]) -> int:
    try:
        from . import bench
    except ImportError as exc:
        raise CliError(f"the bench command is not available: {exc}") from exc
    code = bench.main(argv)
    return int(code or 0)


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
        if argv and argv[0] == "bench":
            return _bench(argv[1:])
        args = _parser().parse_args(argv)
        with _quiet_native_stderr():
            if args.command == "predict":
                return _predict(args)
            if args.command == "read":
                return _read(args)
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
