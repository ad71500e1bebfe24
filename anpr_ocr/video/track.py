"""Plates followed from frame to frame: ByteTrack's two-stage matching on box overlap and motion.

Each frame the caller hands the tracker its detections, each marked strong (the detector and the
reader both sure of it) or weak. Every live track predicts where its box is now: its last box moved
on by its velocity (per frame, for the box's four edges, smoothed over its matches) times the frames
since it was last seen, so a plate that grows as the car nears is followed without overlap lost.
1. Strong detections are matched to the live tracks, the pair of highest IoU with the predicted box
   first (greedy), down to `TrackerConfig.strong_iou`.
2. Weak detections are matched to the tracks still unmatched, down to `weak_iou` (higher: a weak
   detection only keeps a plate that is already followed, as ByteTrack's low-score pass does).
3. A strong detection left over starts a track; a weak one left over is dropped.
A track unseen for more than `max_lost` updates is closed and handed back. Plates of several cars
in one picture do not overlap, so they become separate tracks.

The tracker is pure: frame indices in, tracks out, no images and no clock, so its rules are tested
on hand-made boxes (`tests/test_video_track.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..detector.net import box_iou

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class TrackerConfig:
    """The matching and closing rules (defaults: ByteTrack's IoU thresholds; not tuned, see docs/experiments.md)."""

    strong_iou: float = 0.2  # least IoU of a strong detection with a track's predicted box (ByteTrack: 0.2)
    weak_iou: float = 0.5  # least IoU of a weak detection with a track's predicted box (ByteTrack: 0.5)
    max_lost: int = 10  # updates a track survives unseen; one more and it is closed
    momentum: float = 0.6  # share of the old velocity kept at each match (0: the last step only)


@dataclass(frozen=True)
class Detection:
    """One plate found in a frame, as the tracker sees it; `payload` rides along (e.g. the reading)."""

    box: Box
    strong: bool
    payload: Any = None


@dataclass
class Track:
    """A plate followed over frames: its detections in order, and its motion."""

    id: int
    hits: list[tuple[int, Detection]] = field(default_factory=list)  # (frame, detection), oldest first
    velocity: Box = (0.0, 0.0, 0.0, 0.0)  # per frame, for x0, y0, x1, y1

    @property
    def box(self) -> Box:
        """The box of the track's latest detection."""
        return self.hits[-1][1].box

    @property
    def last_frame(self) -> int:
        """The frame of the track's latest detection."""
        return self.hits[-1][0]

    def predict(self, frame: int) -> Box:
        """Where the box should be at `frame`: the last box moved on at the track's velocity."""
        dt = frame - self.last_frame
        return tuple(b + v * dt for b, v in zip(self.box, self.velocity))  # type: ignore[return-value]

    def add(self, frame: int, detection: Detection, momentum: float) -> None:
        """Append a detection and update the velocity (the first step sets it, later steps blend in)."""
        if self.hits:
            dt = frame - self.last_frame
            step = tuple((n - o) / dt for n, o in zip(detection.box, self.box))
            first_step = len(self.hits) == 1
            self.velocity = step if first_step else tuple(  # type: ignore[assignment]
                momentum * v + (1 - momentum) * s for v, s in zip(self.velocity, step))
        self.hits.append((frame, detection))


def greedy_match(tracks: list[Track], detections: list[Detection], frame: int,
                 least_iou: float) -> list[tuple[int, int]]:
    """(track index, detection index) pairs, highest IoU with the predicted box first, each used once,
    none under `least_iou`."""
    predicted = [t.predict(frame) for t in tracks]
    pairs = sorted(((box_iou(p, d.box), ti, di) for ti, p in enumerate(predicted) for di, d in enumerate(detections)),
                   key=lambda x: (-x[0], x[1], x[2]))
    used_t: set[int] = set()
    used_d: set[int] = set()
    out = []
    for overlap, ti, di in pairs:
        if overlap < least_iou or overlap == 0:
            break
        if ti not in used_t and di not in used_d:
            used_t.add(ti)
            used_d.add(di)
            out.append((ti, di))
    return out


class Tracker:
    """Frame-by-frame plate tracks (see the module docstring). Feed `update` the frames in order."""

    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()
        self.live: list[Track] = []
        self.unseen: dict[int, int] = {}  # live track id -> updates since it was last matched
        self.frame: int | None = None  # the last frame updated
        self.next_id = 1

    def update(self, frame: int, detections: list[Detection]) -> list[Track]:
        """Match one frame's detections to the live tracks, start new ones, and return the tracks
        this frame closes (unseen for more than `max_lost` updates), oldest first."""
        if self.frame is not None and frame <= self.frame:
            raise ValueError(f"frame {frame} does not come after frame {self.frame}")
        self.frame = frame
        c = self.config
        strong = [d for d in detections if d.strong]
        weak = [d for d in detections if not d.strong]
        first = greedy_match(self.live, strong, frame, c.strong_iou)
        rest = [i for i in range(len(self.live)) if i not in {ti for ti, _ in first}]
        second = [(rest[ri], di) for ri, di in greedy_match([self.live[i] for i in rest], weak, frame, c.weak_iou)]
        for (ti, di), found in [(pair, strong) for pair in first] + [(pair, weak) for pair in second]:
            self.live[ti].add(frame, found[di], c.momentum)
        matched = {ti for ti, _ in first + second}
        closed, kept = [], []
        for i, track in enumerate(self.live):
            self.unseen[track.id] = 0 if i in matched else self.unseen[track.id] + 1
            (closed if self.unseen[track.id] > c.max_lost else kept).append(track)
        taken = {di for _, di in first}
        for di, d in enumerate(strong):
            if di not in taken:
                track = Track(self.next_id)
                track.add(frame, d, c.momentum)
                self.next_id += 1
                self.unseen[track.id] = 0
                kept.append(track)
        self.live = kept
        for track in closed:
            del self.unseen[track.id]
        return closed

    def close_all(self) -> list[Track]:
        """Close every live track (the end of the video) and return them, oldest first."""
        closed, self.live = self.live, []
        self.unseen.clear()
        return closed
