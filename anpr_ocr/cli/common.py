"""What the subcommands share: one-line errors, the extras and how to install them, the help format,
the reader's options, the walk over the inputs, the progress bar, and the silencing of C libraries'
own messages on stderr (so that an error is reported in our one line only)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.images import walk_images

# The optional dependencies' packages, by the extra that installs them (pyproject.toml).
EXTRAS = {"train": ("albumentations", "matplotlib", "rapidfuzz", "tqdm", "pandas", "papermill", "nbformat"),
          "onnx": ("onnx", "onnxruntime", "onnxscript")}

# How labelled crops (eval, train) and annotated photos (train-detector) are laid out on disk.
CROP_LAYOUT = """\
  Nomeroff     SPLIT/img/<stem>.png (or .jpg ...) with SPLIT/ann/<stem>.json: {"description": "A123BC77"}
  file names   SPLIT/A123BC77.png or SPLIT/0001_A123BC77.jpg (any image suffix; Cyrillic or Latin)
  CSV          a file of path,text rows, paths relative to it"""
PHOTO_LAYOUT = """\
  COCO         SPLIT/annotations.json with, per plate, four corner keypoints (top-left first, clockwise)
               and its "text"; the images where its file_names say (SPLIT/img/..., as vkcv-photos ships)"""


class CliError(Exception):
    """An error to report in one line, without a traceback."""


def install_hint(extra: str) -> str:
    """The command that installs an extra, quoted as zsh needs it."""
    return f'pip install "anpr_ocr[{extra}]"'


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (its type's name when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their line breaks; an option whose help has no "(default: ...)" and whose
    default is in `recipe` (a function giving {dest: value}) gets the value appended. The recipe is
    asked only when help is printed: the training configs need the train extra, which the other
    commands do without."""

    def __init__(self, prog: str, recipe: Callable[[], dict] | None = None, **kwargs):
        super().__init__(prog, max_help_position=32, **kwargs)
        self.recipe = recipe

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if self.recipe is not None and "(default" not in help_text:
            values = self.recipe()
            if action.dest in values:
                return f"{help_text} (default: {values[action.dest]})"
        return action.help


def add_reader_options(p: argparse.ArgumentParser) -> None:
    """The plate reader's options: checkpoint, backend, decoder, batch size."""
    from ..core.onnx_runtime import BACKENDS, DEFAULT_BACKEND
    from ..reader.decode import DECODERS
    from ..reader.infer import DEFAULT_BATCH_SIZE
    from ..reader.predict import DEFAULT_DECODER

    p.add_argument("--weights", metavar="PTH", help="reader checkpoint, FP32 or FX INT8 (default: $ANPR_OCR_WEIGHTS, "
                   "else the committed FP32 model for crops; for photos and video the INT8 one where INT8 runs)")
    p.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND,
                   help="auto: ONNX Runtime where it is installed (an FP32 checkpoint exported on load, an INT8 "
                   "one's ONNX Runtime INT8 model, the plate detector of read and video in the INT8 graph its "
                   "checkpoint carries), else PyTorch; torch or onnx choose for both (onnx needs "
                   f"{install_hint('onnx')}) (default: %(default)s)")
    p.add_argument("--decoder", choices=DECODERS, default=DEFAULT_DECODER,
                   help="CTC decoder: format prefers a valid plate the model finds nearly as likely "
                   "(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help="plates per model call (default: %(default)s)")


def add_read_once_option(p: argparse.ArgumentParser) -> None:
    """--read-once: each crop read once, without `predict`'s second look at the unsure ones."""
    p.add_argument("--read-once", action="store_true", help="read each crop once (by default a crop read as "
                   "anything but a sure valid plate is read again, trimmed and padded, and the three as one)")


def add_detector_options(p: argparse.ArgumentParser) -> None:
    """The plate detector's options and what `read_plates` reports of its detections."""
    from ..detector.net import SECOND_PASS_OVER
    from ..pipeline.read import MIN_PLATE_WIDTH, MIN_READING_CONFIDENCE, MIN_VALID_READING_CONFIDENCE

    p.add_argument("--detector", metavar="PTH",
                   help="detector checkpoint (default: $ANPR_DETECTOR_WEIGHTS, else the committed detector)")
    p.add_argument("--threshold", type=float, default=None, metavar="P", help="detector score a plate must reach "
                   "(default: the one chosen on val and stored with the detector)")
    p.add_argument("--min-width", type=float, default=MIN_PLATE_WIDTH, metavar="PX",
                   help="narrower plates, in pixels, are not read (default: %(default)s)")
    p.add_argument("--min-reading-confidence", type=float, default=MIN_READING_CONFIDENCE, metavar="P",
                   help="readings the reader is less sure of are not reported (default: %(default)s)")
    p.add_argument("--min-valid-reading-confidence", type=float, default=MIN_VALID_READING_CONFIDENCE, metavar="P",
                   help="the same for readings that are valid plates; both 0 report every detection "
                   "(default: %(default)s)")
    p.add_argument("--one-pass", action="store_true", help="search each image for plates once, also those over "
                   f"{SECOND_PASS_OVER} px (by default searched a second time at up to twice the detector's input "
                   "size for their small plates: slower on them)")


def second_pass_over(args: argparse.Namespace) -> int | None:
    """`read_plates`' `second_pass_over` for the command line's --one-pass."""
    from ..detector.net import SECOND_PASS_OVER

    return None if args.one_pass else SECOND_PASS_OVER


def add_reading_options(p: argparse.ArgumentParser) -> None:
    """How readings are written and flagged."""
    from ..core.alphabet import OUTPUT_ALPHABETS
    from ..reader.predict import DEFAULT_ALPHABET, DEFAULT_MIN_CONFIDENCE

    p.add_argument("--alphabet", choices=OUTPUT_ALPHABETS, default=DEFAULT_ALPHABET,
                   help="letters as Latin look-alikes or as the Cyrillic printed on plates (default: %(default)s)")
    p.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, metavar="P",
                   help="readings below this confidence are flagged (default: %(default)s)")


def add_quiet_option(p: argparse.ArgumentParser, what: str) -> None:
    """--quiet: no progress bar and no per-input skip lines; `what` names an input in the help."""
    p.add_argument("--quiet", action="store_true", help=f"no progress bar and no line per unreadable {what} on "
                   "stderr: one line at the end says how many were skipped")


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
            for image in walk_images(path):
                found += 1
                yield image
            if not found:
                raise CliError(f"no image files in folder {path}")
        else:
            yield path


class Skips:
    """Unreadable inputs: each reported in one line on stderr as it comes, or, when quiet, counted and
    reported in one line at the end (`finish`, which gives the exit status: 1 when any was skipped)."""

    def __init__(self, quiet: bool, what: str):
        self.quiet, self.what, self.count = quiet, what, 0

    def skip(self, path: Path, reason: str) -> None:
        """Count `path` as skipped and, unless quiet, say why on stderr."""
        self.count += 1
        if not self.quiet:
            print(f"anpr-ocr: skipped {path}: {reason}", file=sys.stderr)

    def finish(self) -> int:
        """When quiet, report how many inputs were skipped; the exit status: 1 when any was, else 0."""
        if self.quiet and self.count:
            print(f"anpr-ocr: skipped {self.count} unreadable {self.what}{'s' if self.count > 1 else ''}",
                  file=sys.stderr)
        return 1 if self.count else 0


def progress_bar(quiet: bool, unit: str) -> Any:
    """A tqdm bar on stderr when it is a terminal and tqdm (the train extra) is installed; else None."""
    if quiet or not is_tty(sys.stderr):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(unit=unit, file=sys.stderr)


def printing_beside(bar: Any) -> contextlib.AbstractContextManager[None]:
    """A context in which prints do not break the progress bar `bar` (None: no bar, nothing to do)."""
    return bar.external_write_mode(file=sys.stdout) if bar is not None else contextlib.nullcontext()


def flags(r: Any) -> str:
    """What a text line says after a reading that is not a valid plate, or is flagged."""
    return ("" if r.valid else "  invalid") + ("  FLAGGED" if r.flagged else "")


def is_tty(stream: Any) -> bool:
    """Whether `stream` is a terminal; False for objects without a usable `isatty` (closed or stand-in streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
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
