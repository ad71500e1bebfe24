"""`read_video`: a video, a stream or a camera in, one `PlateTrack` per plate that passes out.

    from anpr_ocr import read_video
    for track in read_video("gate.mp4"):              # a file, a URL, a camera index, or frames
        track.text, track.confidence, track.first_time, track.last_time, track.frames

Each frame kept (every `every`-th) is read as `read_plates` reads a photo: the detector, then the
reader on the plates found, in one batch. The detections go to the tracker (`video.track`) as strong,
those `read_plates` would report (detector score at least `threshold`, reader confidence at least
`min_reading_confidence`, or `min_valid_reading_confidence` for a valid plate), or weak: detector
score down to `weak_threshold` (half of `threshold` by default) or a reading less sure than that.
Weak ones only keep a followed plate alive, as ByteTrack does with low-score boxes, so a weak
detection is read only where it overlaps a followed plate's predicted box enough to be matched: the
rest are mostly grilles and lettering, on which the format decoder spends the most
(docs/experiments.md). A detection lying half or more inside a better one is dropped first
(`detector.net.drop_nested`): in a frame over 1,024 px the detector's two passes can find one plate
twice, with boxes of different size, and the two would split its track. A track closed by the tracker
(its plate unseen for a while) comes out as a `PlateTrack` at once, the tracks still open at the end
after the last frame. Its text is decided over all its readings that pass those floors
(`video.consensus.weighted`); a track with fewer than `min_frames` such readings is not reported: a
plate that passes is seen in many frames, a detector false alarm that reads like a plate seldom twice
in a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.alphabet import to_cyrillic
from ..core.formats import plate_type
from ..core.images import as_grey
from ..core.onnx_runtime import DEFAULT_BACKEND
from ..detector.checkpoint import load_plate_detector
from ..detector.net import SECOND_PASS_OVER, box_iou, drop_nested
from ..pipeline.read import (
    MIN_PLATE_WIDTH,
    MIN_READING_CONFIDENCE,
    MIN_VALID_READING_CONFIDENCE,
    PhotoReading,
    default_detector,
    found_plates,
    read_found,
    read_plates,
    reported,
)
from ..reader.infer import DEFAULT_BATCH_SIZE
from ..reader.predict import DEFAULT_ALPHABET, DEFAULT_DECODER, DEFAULT_MIN_CONFIDENCE, check_options
from .consensus import weighted
from .frames import VideoFrames
from .track import Detection, Track, Tracker, TrackerConfig

MIN_FRAMES = 2  # readings a track needs to be reported (see the module docstring)


@dataclass(frozen=True)
class FrameReading:
    """One reading of a tracked plate: where in the video, and what `read_plates` gave (Latin)."""

    frame: int
    time: float
    reading: PhotoReading


@dataclass(frozen=True)
class PlateTrack:
    """One plate followed through a video, and its text decided over all the frames it was read in."""

    id: int  # the tracker's number for it (in order of appearance; numbers of unreported tracks are skipped)
    text: str  # Latin look-alikes, or Cyrillic when asked for
    confidence: float  # the consensus's confidence in the text, 0..1 (video.consensus)
    plate_type: str | None  # "private", "taxi", "trailer", "police", "motorcycle" or None
    valid: bool  # whether the text fits a GOST R 50577 format
    flagged: bool  # confidence below the caller's min_confidence: check this track
    first_frame: int  # index of the first and last frame it was read in
    last_frame: int
    first_time: float  # their times, seconds from the start of the source
    last_time: float
    frames: int  # frames it was read in
    best_frame: int  # the frame of its most confident reading of `text` (of any text if none reads it)
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in that frame's pixels
    corners: tuple[tuple[float, float], ...]  # four (x, y) in that frame: top-left first, clockwise
    readings: tuple[FrameReading, ...] = field(default=(), repr=False, compare=False)  # the evidence

    def summary(self) -> dict[str, Any]:
        """Every field but `readings`, as plain values (for JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "readings"}


@dataclass(frozen=True)
class LivePlate:
    """A plate being followed now, for drawing: its last box and the text its readings agree on so far."""

    id: int
    box: tuple[float, float, float, float]
    corners: tuple[tuple[float, float], ...]
    text: str
    seen: bool  # detected in the frame just read


class VideoReader:
    """Reads the plates of one video frame by frame: `step` each frame in order, then `finish`.
    `read_video` drives it; the command line drives it too, to draw the plates being followed."""

    def __init__(self, weights: str | Path | None = None, detector: str | Path | None = None,
                 alphabet: str = DEFAULT_ALPHABET, decoder: str = DEFAULT_DECODER,
                 min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                 threshold: float | None = None, min_width: float = MIN_PLATE_WIDTH,
                 min_reading_confidence: float = MIN_READING_CONFIDENCE,
                 min_valid_reading_confidence: float = MIN_VALID_READING_CONFIDENCE,
                 batch_size: int = DEFAULT_BATCH_SIZE, backend: str = DEFAULT_BACKEND,
                 weak_threshold: float | None = None, min_frames: int = MIN_FRAMES,
                 tracker: TrackerConfig | None = None, second_pass_over: int | None = SECOND_PASS_OVER):
        check_options(alphabet, decoder, backend, min_confidence, batch_size)
        if isinstance(min_frames, bool) or not isinstance(min_frames, int) or min_frames < 1:
            raise ValueError(f"min_frames must be a positive integer, got {min_frames!r}")
        self.model, stored = load_plate_detector(default_detector() if detector is None else detector, backend)
        self.threshold = stored if threshold is None else threshold
        self.weak_threshold = self.threshold / 2 if weak_threshold is None else weak_threshold
        if isinstance(self.weak_threshold, bool) or not isinstance(self.weak_threshold, (int, float)) \
                or not 0 <= self.weak_threshold <= self.threshold:
            raise ValueError(f"weak_threshold must be a number in [0, threshold], got {weak_threshold!r}")
        self.alphabet, self.min_confidence, self.min_frames = alphabet, min_confidence, min_frames
        self.floors, self.min_width = (min_reading_confidence, min_valid_reading_confidence), min_width
        self.second_pass_over = second_pass_over
        self.reader = dict(weights=weights, decoder=decoder, batch_size=batch_size, backend=backend)
        # a bad option or checkpoint fails here, before the first frame
        read_plates(np.zeros((64, 64), np.uint8), detector=detector, min_confidence=min_confidence,
                    threshold=self.threshold, min_width=min_width, min_reading_confidence=min_reading_confidence,
                    min_valid_reading_confidence=min_valid_reading_confidence, second_pass_over=second_pass_over,
                    **self.reader)
        self.tracker = Tracker(tracker)

    def step(self, frame: int, seconds: float, image: Any) -> list[PlateTrack]:
        """Read one frame (index in the source, its time, the image) and return the tracks it closes."""
        grey = as_grey(image, f"frame {frame}")
        found = drop_nested(found_plates(self.model, [grey], self.weak_threshold, self.min_width,
                                         self.second_pass_over)[0])
        predicted = [t.predict(frame) for t in self.tracker.live]
        least = self.tracker.config.weak_iou
        found = [d for d in found if d.score >= self.threshold or any(box_iou(d.box, p) >= least for p in predicted)]
        readings = read_found([grey], [found], **self.reader)[0]
        detections = [Detection(r.box, r.score >= self.threshold and reported(r, *self.floors),
                                FrameReading(frame, seconds, r)) for r in readings]
        return self._reported(self.tracker.update(frame, detections))

    def finish(self) -> list[PlateTrack]:
        """Close the tracks still open (the source has ended) and return those worth reporting."""
        return self._reported(self.tracker.close_all())

    def live(self) -> list[LivePlate]:
        """The plates followed now, with the text their readings so far agree on."""
        out = []
        for track in self.tracker.live:
            hit = track.hits[-1][1].payload.reading
            text = weighted([f.reading for f in self._evidence(track)]).text
            out.append(LivePlate(track.id, hit.box, hit.corners, self._spelled(text),
                                 track.last_frame == self.tracker.frame))
        return out

    def _evidence(self, track: Track) -> list[FrameReading]:
        """The track's readings that pass the floors, frame by frame: what its text is voted over."""
        return [d.payload for _, d in track.hits if reported(d.payload.reading, *self.floors)]

    def _spelled(self, text: str) -> str:
        return to_cyrillic(text) if self.alphabet == "cyrillic" else text

    def _reported(self, closed: list[Track]) -> list[PlateTrack]:
        out = []
        for track in closed:
            read = self._evidence(track)
            if len(read) < self.min_frames:
                continue
            verdict = weighted([f.reading for f in read])
            agreeing = [f for f in read if f.reading.text == verdict.text] or read
            best = max(agreeing, key=lambda f: f.reading.confidence)
            kind = plate_type(verdict.text)
            if self.alphabet == "cyrillic":
                read = [replace(f, reading=replace(f.reading, text=to_cyrillic(f.reading.text))) for f in read]
            out.append(PlateTrack(
                track.id, self._spelled(verdict.text), verdict.confidence, kind, kind is not None,
                verdict.confidence < self.min_confidence, read[0].frame, read[-1].frame, read[0].time,
                read[-1].time, len(read), best.frame, best.reading.box, best.reading.corners, tuple(read)))
        return out


def read_video(source: Any, every: int = 1, fps: float | None = None, **options: Any) -> Iterator[PlateTrack]:
    """Follow and read the plates in a video: yields one `PlateTrack` per plate as soon as it has left
    the picture (unseen for `TrackerConfig.max_lost` frames read), then the ones still open at the end.

    `source` is a video file, a stream URL or a camera index (opened by OpenCV, decoded in a thread
    beside the model), or an iterable of images (BGR or grey arrays). `every` reads every n-th frame
    only (faster; fewer readings a plate). `fps` sets the frame rate the times are computed from
    (default: the file's; seconds since the first frame where the source states none). The other
    options are `VideoReader`'s: `read_plates`'s (weights, detector, alphabet, decoder,
    min_confidence, threshold, min_width, min_reading_confidence, min_valid_reading_confidence,
    batch_size, backend, second_pass_over), and `weak_threshold`, `min_frames`, `tracker` (see the module docstring).
    """
    reader = VideoReader(**options)
    with VideoFrames(source, every, fps) as frames:
        for index, seconds, image in frames:
            yield from reader.step(index, seconds, image)
    yield from reader.finish()
