"""`anpr-ocr video SOURCE [--json] [--every N] [--draw OUT.mp4]`: one line per plate that passes.

    anpr-ocr video gate.mp4 --json          # JSON Lines, one object per track as it closes
    anpr-ocr video rtsp://camera/stream     # a stream URL; a number is a camera index
    anpr-ocr video gate.mp4 --every 3 --draw seen.mp4

Each track is printed as soon as its plate has left the picture. With --json: its `PlateTrack`
fields but the readings (text, confidence, plate_type, valid, flagged, first_frame, last_frame,
first_time, last_time, frames, best_frame, box, corners, id), and with --readings the readings it
was decided from; without --json: a tab-separated line. For a file, a progress line (frames read
of the total) goes to stderr when it is a terminal; the frames a second read come at the end.
--draw writes the frames read with each plate followed outlined, its track number and the text its
readings agree on so far. `cli.main` turns errors into one-line messages.

The model runs on one torch thread by default and the frames are decoded in a second thread: two
threads in all, each with a core of a two-core machine. Two torch threads (--threads 2) gain little
on a free machine and lose much on a busy one, where each waits on the other (docs/experiments.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .common import (
    HelpFormatter,
    add_detector_options,
    add_reader_options,
    add_reading_options,
    flags,
    is_tty,
    second_pass_over,
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `video` command to the command line's subparsers."""
    p = subparsers.add_parser(
        "video", help="follow and read the plates in a video, a stream or a camera", formatter_class=HelpFormatter,
        description="Follow the plates through a video file, a stream URL or a camera index and print one line\n"
        "per plate that passes, as it leaves the picture (JSON Lines with --json).")
    p.add_argument("source", metavar="SOURCE", help="video file, stream URL, or camera index")
    p.add_argument("--json", action="store_true", help="print JSON Lines: one object per track")
    p.add_argument("--readings", action="store_true", help="with --json, also each track's readings: frame, "
                   "time, text, confidence, char_confidences, box, score")
    p.add_argument("--every", type=int, default=1, metavar="N", help="read every N-th frame (default: %(default)s)")
    p.add_argument("--draw", metavar="OUT.mp4", help="also write the frames read with the plates followed drawn")
    add_detector_options(p)
    add_reading_options(p)
    add_reader_options(p)
    from ..video.stream import MIN_FRAMES

    p.add_argument("--min-frames", type=int, default=MIN_FRAMES, help="frames a plate must be read in "
                   "(default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the detector and the reader; the "
                   "frames are decoded in another thread beside them (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress line or speed on stderr")
    return p


def run(args: argparse.Namespace) -> int:
    """Run `anpr-ocr video`; returns the exit code (errors are raised, for the caller to report)."""
    import torch

    from ..video.frames import VideoFrames
    from ..video.stream import VideoReader

    if args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    reader = VideoReader(args.weights, args.detector, args.alphabet, args.decoder, args.min_confidence,
                         args.threshold, args.min_width, args.min_reading_confidence,
                         args.min_valid_reading_confidence, args.batch_size, args.backend, min_frames=args.min_frames,
                         second_pass_over=second_pass_over(args))
    source = int(args.source) if args.source.isdigit() and not Path(args.source).exists() else args.source
    writer, read, start, cpu = None, 0, time.perf_counter(), time.process_time()
    progress = Progress(sys.stderr, None) if not args.quiet else None
    try:
        with VideoFrames(source, args.every) as frames:
            if progress is not None and frames.total:
                progress.total = frames.total
            for index, seconds, image in frames:
                for track in reader.step(index, seconds, image):
                    _print(track, args.json, args.readings)
                if args.draw:
                    writer = writer or _writer(args.draw, image, (frames.fps or 25.0) / args.every)
                    writer.write(draw_live(image, reader.live()))
                read += 1
                if progress is not None:
                    progress.update(index + 1)
        for track in reader.finish():
            _print(track, args.json, args.readings)
    finally:
        if writer is not None:
            writer.release()
        if progress is not None:
            progress.close()
    if not args.quiet:  # CPU time too: on a machine shared with other work the wall time says little alone
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"anpr-ocr: {read} frames read in {seconds:.1f} s: {read / max(seconds, 1e-9):.1f} frames a second "
              f"({cpu:.1f} s of CPU time)", file=sys.stderr)
    return 0


def _print(track: Any, as_json: bool, readings: bool = False) -> None:
    if as_json:
        row = track.summary()
        if readings:
            row["readings"] = [{"frame": f.frame, "time": f.time, "text": f.reading.text,
                                "confidence": f.reading.confidence, "char_confidences": f.reading.char_confidences,
                                "box": f.reading.box, "score": f.reading.score} for f in track.readings]
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return
    print(f"{track.text}\t{track.confidence:.3f}\t{track.first_time:.2f}-{track.last_time:.2f} s\t"
          f"frames {track.first_frame}-{track.last_frame} ({track.frames} read)\t{track.plate_type or '-'}"
          f"{flags(track)}", flush=True)


def _writer(path: str, image: Any, fps: float):
    import cv2

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    height, width = image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {path}")
    return writer


def draw_live(image: Any, plates: list) -> Any:
    """A BGR copy of a frame with each plate followed outlined and labelled "#id TEXT" on a filled box, zeros
    slashed (`pipeline.draw`): green where it was detected in this frame, grey where the tracker carries it on."""
    import cv2
    import numpy as np

    from ..pipeline.draw import draw_label, label_height, label_size

    canvas = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height = label_height(canvas.shape)
    for p in plates:
        colour = (0, 200, 0) if p.seen else (160, 160, 160)
        cv2.polylines(canvas, [np.round(np.array(p.corners)).astype(np.int32)], True, colour, 2, cv2.LINE_AA)
        label = f"#{p.id} {p.text}"
        w, h = label_size(label, height)
        x = min(max(0, int(p.box[0])), max(0, canvas.shape[1] - w))
        y = int(p.box[1]) - h - 4 if int(p.box[1]) - h - 4 >= 0 else min(int(p.box[3]) + 4, canvas.shape[0] - h)
        draw_label(canvas, label, (x, max(0, y)), height, colour)
    return canvas


class Progress:
    """"frames N/total" rewritten in place on a terminal, at most four times a second; silent elsewhere."""

    def __init__(self, stream: Any, total: int | None):
        self.stream, self.total = stream, total
        self.shown = 0.0
        self.on = is_tty(stream)

    def update(self, done: int) -> None:
        """Show `done` frames of the total, unless the line was rewritten under a quarter second ago."""
        now = time.perf_counter()
        if self.on and self.total and (now - self.shown >= 0.25 or done >= self.total):
            self.shown = now
            width = 30
            filled = int(width * min(done, self.total) / self.total)
            self.stream.write(f"\rframes {done}/{self.total} [{'#' * filled}{'.' * (width - filled)}]")
            self.stream.flush()

    def close(self) -> None:
        """End the progress line, if one was shown, so later output starts on a line of its own."""
        if self.on and self.shown:
            self.stream.write("\n")
            self.stream.flush()
