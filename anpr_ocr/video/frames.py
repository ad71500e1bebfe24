"""Frames of a video source, decoded in a thread ahead of the model.

`VideoFrames(source, every)` opens a video file, a stream URL or a camera index with OpenCV, or
takes any iterable of images (BGR or grey arrays), and yields `(index, seconds, image)` for every
`every`-th frame. For OpenCV sources a thread grabs the frames and decodes the ones kept into a
small queue while the caller runs the detector and the reader: OpenCV lets go of the GIL while it
decodes, so on two cores decoding overlaps the model instead of adding to it. Frames that are
skipped are only grabbed, not converted to images.

Times: the frame's index over the source's frame rate (the file's, or `fps` when given); a source
that states none (a camera, some streams, an iterable) gets seconds measured since its first frame.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

Frame = tuple[int, float, np.ndarray]  # index in the source, seconds, image
_END = object()


def is_capture_source(source: Any) -> bool:
    """Whether OpenCV opens `source` (a path, a URL or a camera index) rather than it being iterated."""
    return isinstance(source, (str, os.PathLike)) or (isinstance(source, int) and not isinstance(source, bool))


class VideoFrames:
    """Every `every`-th frame of `source`, as (index, seconds, image); use as an iterator, once, and
    close it (or use `with`) to stop the decoding thread early."""

    def __init__(self, source: Any, every: int = 1, fps: float | None = None, ahead: int = 8):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if fps is not None and not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.every, self.ahead = every, ahead
        self.fps = fps
        self.total: int | None = None  # frames in the source, when it says
        self._capture = None
        self._frames: Iterable[Any] | None = None
        self._stop = threading.Event()
        if is_capture_source(source):
            import cv2

            name = str(source)
            if isinstance(source, (str, os.PathLike)) and "://" not in name and not Path(name).is_file():
                raise FileNotFoundError(f"no video file at {name}")
            capture = cv2.VideoCapture(source if isinstance(source, int) else name)
            if not capture.isOpened():
                raise OSError(f"cannot open video {name}")
            self._capture = capture
            stated = capture.get(cv2.CAP_PROP_FPS)
            self.fps = fps or (stated if 0 < stated < 1000 else None)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            self.total = count if count > 0 and isinstance(source, (str, os.PathLike)) else None
        elif isinstance(source, Iterable):
            self._frames = source
            self.total = len(source) if hasattr(source, "__len__") else None  # type: ignore[arg-type]
        else:
            raise TypeError(f"source must be a video path, a URL, a camera index or an iterable of images, "
                            f"got {type(source).__name__}")

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop decoding and release the source."""
        self._stop.set()

    def _seconds(self, index: int, start: float) -> float:
        return index / self.fps if self.fps else time.perf_counter() - start

    def __iter__(self) -> Iterator[Frame]:
        if self._frames is not None:
            start = time.perf_counter()
            for index, image in enumerate(self._frames):
                if self._stop.is_set():
                    return
                if index % self.every == 0:
                    yield index, self._seconds(index, start), np.asarray(image)
            return
        yield from self._threaded()

    def _threaded(self) -> Iterator[Frame]:
        frames: queue.Queue = queue.Queue(self.ahead)
        worker = threading.Thread(target=self._decode, args=(frames,), name="anpr-video-decode", daemon=True)
        worker.start()
        try:
            while (item := frames.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()
            while worker.is_alive():  # unblock a decoder waiting on a full queue
                try:
                    frames.get(timeout=0.05)
                except queue.Empty:
                    pass
            self._capture.release()

    def _decode(self, frames: queue.Queue) -> None:
        """The thread: grab every frame, decode the kept ones, queue them; _END when the source ends."""
        capture, start, index = self._capture, time.perf_counter(), 0
        try:
            while not self._stop.is_set() and capture.grab():
                if index % self.every == 0:
                    ok, image = capture.retrieve()
                    if not ok:
                        break
                    self._put(frames, (index, self._seconds(index, start), image))
                index += 1
            self._put(frames, _END)
        except Exception as exc:  # handed to the reader, which raises it
            self._put(frames, exc)

    def _put(self, frames: queue.Queue, item: Any) -> None:
        while not self._stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
