"""The `anpr-ocr` command (also `python -m anpr_ocr`): the subcommands assembled into one parser.

Each subcommand is a module of this folder with `add_parser(subparsers)` and `run(args) -> int`.
Exit status 0 on success; on an error, a one-line message on stderr and a non-zero status (1 for a
bad input, checkpoint or missing extra, 2 for bad usage), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from types import ModuleType

from ..core.shipped import VERSION
from . import (
    bench,
    eval as evaluate,  # eval: not builtin
    make_detector_int8,
    make_int8,
    predict,
    read,
    train,
    train_detector,
    video,
)
from .common import EXTRAS, CliError, HelpFormatter, install_hint, one_line, quiet_native_stderr

# The subcommands, in the order `anpr-ocr -h` lists them.
COMMANDS: tuple[ModuleType, ...] = (predict, evaluate, read, video, train, train_detector, make_int8,
                                    make_detector_int8, bench)
NATIVE_STDERR = {"bench", "make-int8"}  # their C libraries' own stderr is let through (long runs)

DESCRIPTION = f"""\
Read Russian licence plates on the CPU.
  crops:    predict reads images of one plate each; eval scores the reader on a labelled split of crops
  photos:   read finds the plates in whole photos (the detector) and reads them
  video:    video follows the plates through a video, a stream or a camera: one reading per plate
  training: train trains a reader on crops, train-detector a detector on photos (the train extra);
            make-int8 quantizes a reader, make-detector-int8 a detector
Run `anpr-ocr COMMAND -h` for a command's options and data layout.

extras:
  {install_hint('train'):31} training, the notebooks, bench's plots, progress bars
  {install_hint('onnx'):31} --backend onnx (ONNX Runtime)"""


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, one subparser per module of COMMANDS."""
    parser = argparse.ArgumentParser(prog="anpr-ocr", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(run=command.run)
    parser.set_defaults(entry_point=main)  # bench times the predict command through it
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        with contextlib.nullcontext() if args.command in NATIVE_STDERR else quiet_native_stderr():
            return args.run(args)
    except SystemExit as exc:  # argparse: --help or --version (0), or a usage error (2, message already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BrokenPipeError:  # e.g. `anpr-ocr predict dir/ | head`: stop quietly
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("anpr-ocr: interrupted", file=sys.stderr)
        return 130
    except CliError as exc:
        print(f"anpr-ocr: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        extra = next((name for name, modules in EXTRAS.items() if (exc.name or "").split(".")[0] in modules), None)
        if extra is None:
            print(f"anpr-ocr: error: {one_line(exc)}", file=sys.stderr)
        else:
            command = next((a for a in argv if not a.startswith("-")), "this command")
            print(f"anpr-ocr: error: {command} needs the {extra} extra ({one_line(exc)}): {install_hint(extra)}",
                  file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError, NotImplementedError, ImportError) as exc:
        print(f"anpr-ocr: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything unexpected still gets one line, not a traceback
        print(f"anpr-ocr: error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
