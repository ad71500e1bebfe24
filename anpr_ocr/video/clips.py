"""Labelled test clips made from annotated whole photos: no labelled video of Russian traffic is at hand.

Each photo becomes a shot in which the camera nears its plate: a window over the photo shrinks
geometrically (zoom: the plate grows from about `start_width` to `end_width` output pixels, never
magnified past `max_zoom` times its size in the photo) while the plate drifts from an off-centre
point towards the middle (pan), with a little hand shake. Where the window is larger than the photo
(a plate already wide in its photo) the rest is the photo's mean colour. Each frame then gets
motion blur along the plate's motion in the picture (plus an occasional jolt), sensor noise and
JPEG compression, at strengths drawn per shot. Shots follow one another with hard cuts; every
`pair_every`-th shot shows two photos side by side (two plates in view, each nearing), and one shot
(`empty_at`) shows a stretch of a photo above all its plates, so no plate is in view.

`plan_clip` draws the shots (pure: photos' sizes and plates in, per-frame windows out, one seed),
`clip_labels` derives the labels from the plan, `render_clip` draws the frames, `write_clip` writes an
mp4 (OpenCV's mp4v) and the labels as JSON. A label lists each annotated plate in a shot with its
box in every frame it is in view, and `expected`: its text is known and it is fully in view at least
`min_label_width` px wide somewhere in the shot, so a reader should read it (the others may be
tracked or not, unscored).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from ..detector.photos import read_annotations


@dataclass(frozen=True)
class ClipPlate:
    corners: tuple[tuple[float, float], ...]  # four (x, y) in the photo's pixels, top-left first, clockwise
    text: str | None


@dataclass(frozen=True)
class ClipPhoto:
    """An annotated photo: where it is, its size and its plates."""

    path: str
    width: int
    height: int
    plates: tuple[ClipPlate, ...]


@dataclass(frozen=True)
class ClipConfig:
    """The clip's recipe (defaults: the 1024x576, 25 fps clips of docs/experiments.md)."""

    width: int = 1024
    height: int = 576
    fps: int = 25
    shot_frames: tuple[int, int] = (44, 56)  # frames a shot lasts, drawn in this range
    start_width: tuple[float, float] = (30.0, 55.0)  # the plate's width in output px as a shot starts
    end_width: tuple[float, float] = (0.18, 0.3)  # ... as it ends, as a share of the picture's width
    max_zoom: float = 1.6  # the plate is never magnified past this times its size in the photo
    max_outside: float = 2.0  # the window spans at most this times the largest one inside the photo
    shake: float = 1.5  # hand shake, output px (standard deviation a frame)
    blur: tuple[float, float] = (0.3, 0.8)  # motion blur = this share of the plate's motion a frame
    jolt: float = 0.08  # chance a frame gets an extra blur of 4-9 px in a random direction
    noise: tuple[float, float] = (2.0, 7.0)  # sensor noise standard deviation, grey levels
    jpeg: tuple[int, int] = (30, 70)  # JPEG quality
    pair_every: int = 5  # every n-th shot shows two photos side by side (0: never)
    empty_at: int | None = None  # the shot with no plate (default: the middle shot; -1: none)
    min_label_width: float = 60.0  # a plate must be fully in view this wide (output px) to be expected read
    seed: int = 0


@dataclass(frozen=True)
class View:
    """One photo's part of a shot: where in the picture it is drawn, and the window over it each frame."""

    photo: int  # index into the clip's photos
    target: int | None  # the plate the camera nears (None: the shot with no plate)
    region: tuple[int, int, int, int]  # x, y, width, height in the output picture
    windows: tuple[tuple[float, float, float], ...]  # per frame: centre x, centre y, width (photo px)


@dataclass(frozen=True)
class Shot:
    first_frame: int
    frames: int
    views: tuple[View, ...]
    blur: float
    noise: float
    jpeg: int
    seed: int


def load_clip_photos(split_dir: str | Path) -> list[ClipPhoto]:
    """The photos of a COCO keypoints split (annotations.json + images, as vkcv-photos/<split> ships)."""
    split_dir = Path(split_dir)
    images, plates = read_annotations(split_dir)
    clip_plates = {i: tuple(ClipPlate(tuple(map(tuple, p.corners.tolist())), p.text or None) for p in ps)
                   for i, ps in plates.items()}
    return [ClipPhoto(str(split_dir / im["file_name"]), im["width"], im["height"], clip_plates[i])
            for i, im in sorted(images.items(), key=lambda item: item[1]["file_name"])]


def _centre_width(plate: ClipPlate) -> tuple[float, float, float]:
    c = np.asarray(plate.corners)
    return float(c[:, 0].mean()), float(c[:, 1].mean()), float(np.ptp(c[:, 0]))


def _approach(photo: ClipPhoto, target: int, size: tuple[int, int], frames: int, c: ClipConfig,
              rng: np.random.Generator) -> tuple[tuple[float, float, float], ...]:
    """Per-frame windows (centre x, centre y, width in photo px) of a camera nearing one plate."""
    out_w, out_h = size
    px, py, pw = _centre_width(photo.plates[target])
    fit = min(photo.width, photo.height * out_w / out_h)  # the widest window inside the photo
    w_start = min(pw * out_w / rng.uniform(*c.start_width), c.max_outside * fit)
    end_out = min(rng.uniform(*c.end_width) * out_w, c.max_zoom * pw)
    w_end = min(pw * out_w / end_out, w_start / 1.5)  # nearer at the end, whatever the start
    pos_start = rng.uniform([0.2, 0.25], [0.8, 0.75])  # where the plate is in the picture, as shares
    pos_end = rng.uniform([0.4, 0.4], [0.6, 0.65])
    windows = []
    for i in range(frames):
        s = (i / max(frames - 1, 1)) ** 1.3  # a car nearing at a steady speed grows ever faster
        w = w_start * (w_end / w_start) ** s
        h = w * out_h / out_w
        pos = pos_start + (pos_end - pos_start) * s
        shake = rng.normal(0, c.shake, 2) * w / out_w
        windows.append((px - (pos[0] - 0.5) * w + shake[0], py - (pos[1] - 0.5) * h + shake[1], w))
    return tuple(windows)


def _empty(photo: ClipPhoto, size: tuple[int, int], frames: int,
           rng: np.random.Generator) -> tuple[tuple[float, float, float], ...] | None:
    """Windows panning along the band of a photo above all its plates, or None when that band is thin."""
    top = min(min(y for _, y in p.corners) for p in photo.plates) - 10 if photo.plates else photo.height
    w = min(photo.width * 0.6, top * size[0] / size[1])
    if top < 0.3 * photo.height or w < 0.3 * photo.width:
        return None
    h = w * size[1] / size[0]
    x0, x1 = w / 2, photo.width - w / 2
    start, end = (x0, x1) if rng.random() < 0.5 else (x1, x0)
    return tuple((start + (end - start) * i / max(frames - 1, 1), h / 2, w) for i in range(frames))


def plan_clip(photos: Sequence[ClipPhoto], config: ClipConfig | None = None) -> list[Shot]:
    """The clip's shots: each photo with a readable plate once, in order, pairs every `pair_every`-th
    shot, one shot with no plate (see the module docstring). Pure: the same photos and seed, the same plan."""
    c = config or ClipConfig()
    rng = np.random.default_rng(c.seed)
    usable = [i for i, p in enumerate(photos) if any(pl.text for pl in p.plates)]
    shots_total = len(usable) - (len(usable) // c.pair_every // 2 if c.pair_every else 0)
    empty_at = shots_total // 2 if c.empty_at is None else c.empty_at
    shots: list[Shot] = []
    frame, queue = 0, list(usable)
    while queue or len(shots) == empty_at:
        n = int(rng.integers(c.shot_frames[0], c.shot_frames[1] + 1))
        views: list[View] = []
        if len(shots) == empty_at:
            for i in sorted(range(len(photos)), key=lambda i: -photos[i].height / photos[i].width):
                windows = _empty(photos[i], (c.width, c.height), n, rng)
                if windows is not None:
                    views = [View(i, None, (0, 0, c.width, c.height), windows)]
                    break
            empty_at = -1
            if not views:
                continue
        else:
            pair = c.pair_every and (len(shots) + 1) % c.pair_every == 0 and len(queue) >= 2
            picked = [queue.pop(0) for _ in range(2 if pair else 1)]
            part = c.width // len(picked)
            for k, i in enumerate(picked):
                target = next(j for j, pl in enumerate(photos[i].plates) if pl.text)
                windows = _approach(photos[i], target, (part, c.height), n, c, rng)
                views.append(View(i, target, (k * part, 0, part, c.height), windows))
        shots.append(Shot(frame, n, tuple(views), float(rng.uniform(*c.blur)), float(rng.uniform(*c.noise)),
                          int(rng.integers(c.jpeg[0], c.jpeg[1] + 1)), int(rng.integers(2**31))))
        frame += n
    return shots


def _to_output(points: np.ndarray, view: View, window: tuple[float, float, float]) -> np.ndarray:
    """Photo pixels -> output pixels for one view's window."""
    x, y, w, h = view.region
    cx, cy, ww = window
    k = w / ww
    return (np.asarray(points, np.float64) - [cx - ww / 2, cy - ww * h / w / 2]) * k + [x, y]


def clip_labels(photos: Sequence[ClipPhoto], shots: Sequence[Shot], config: ClipConfig | None = None) -> dict:
    """The clip's labels: per shot its frames and photos, and per plate in view its text, whether it
    should be read (`expected`) and its box in each frame of the shot (None where out of view)."""
    c = config or ClipConfig()
    out = []
    for shot in shots:
        plates = []
        for view in shot.views:
            x, y, w, h = view.region
            for j, plate in enumerate(photos[view.photo].plates):
                boxes, expected = [], False
                for window in view.windows:
                    q = _to_output(plate.corners, view, window)
                    x0, y0 = q.min(0)
                    x1, y1 = q.max(0)
                    inside = x0 >= x and y0 >= y and x1 <= x + w and y1 <= y + h
                    overlaps = x1 > x and y1 > y and x0 < x + w and y0 < y + h
                    boxes.append([round(float(v), 1) for v in (x0, y0, x1, y1)] if overlaps else None)
                    expected |= bool(inside and x1 - x0 >= c.min_label_width and plate.text)
                if any(boxes):
                    plates.append({"text": plate.text, "expected": expected, "target": j == view.target,
                                   "photo": Path(photos[view.photo].path).name, "boxes": boxes})
        out.append({"first_frame": shot.first_frame, "last_frame": shot.first_frame + shot.frames - 1,
                    "photos": [Path(photos[v.photo].path).name for v in shot.views], "plates": plates})
    return {"width": c.width, "height": c.height, "fps": c.fps, "frames": sum(s.frames for s in shots),
            "config": asdict(c), "shots": out}


def _line_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised motion-blur kernel: a line `length` px long at `angle` radians."""
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    half = (size - 1) / 2
    dx, dy = np.cos(angle) * (length - 1) / 2, np.sin(angle) * (length - 1) / 2
    cv2.line(kernel, (round(half - dx), round(half - dy)), (round(half + dx), round(half + dy)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def render_clip(photos: Sequence[ClipPhoto], shots: Sequence[Shot],
                config: ClipConfig | None = None) -> Iterator[np.ndarray]:
    """The clip's frames (BGR uint8, config.height x config.width), in order."""
    c = config or ClipConfig()
    for shot in shots:
        rng = np.random.default_rng(shot.seed)
        images = {v.photo: cv2.imread(photos[v.photo].path, cv2.IMREAD_COLOR) for v in shot.views}
        for i, path in ((v.photo, photos[v.photo].path) for v in shot.views):
            if images[i] is None:
                raise FileNotFoundError(f"cannot read photo {path}")
        means = {i: tuple(float(v) for v in image.reshape(-1, 3).mean(0)) for i, image in images.items()}
        for f in range(shot.frames):
            frame = np.zeros((c.height, c.width, 3), np.uint8)
            for view in shot.views:
                x, y, w, h = view.region
                image, window = images[view.photo], view.windows[f]
                k = w / window[2]
                if k < 0.8:  # shrinking: smooth first, against aliasing
                    image = cv2.GaussianBlur(image, (0, 0), 0.45 / k)
                origin = _to_output(np.zeros((1, 2)), view, window)[0] - [x, y]
                matrix = np.array([[k, 0, origin[0]], [0, k, origin[1]]])
                part = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                      borderValue=means[view.photo])
                if view.target is not None and f > 0:  # blur along the plate's motion since the last frame
                    corners = photos[view.photo].plates[view.target].corners
                    move = (_to_output(corners, view, window) - _to_output(corners, view, view.windows[f - 1])).mean(0)
                    length = float(np.hypot(*move)) * shot.blur
                    if length >= 1.5:
                        part = cv2.filter2D(part, -1, _line_kernel(length, float(np.arctan2(move[1], move[0]))))
                frame[y:y + h, x:x + w] = part
            if rng.random() < c.jolt:
                frame = cv2.filter2D(frame, -1, _line_kernel(rng.uniform(4, 9), rng.uniform(0, np.pi)))
            noise = np.empty(frame.shape, np.int16)
            cv2.setRNGSeed(int(rng.integers(2**31)))
            cv2.randn(noise, 0, shot.noise)
            frame = cv2.add(frame.astype(np.int16), noise).clip(0, 255).astype(np.uint8)
            ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, shot.jpeg])
            yield cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def write_clip(photos: Sequence[ClipPhoto], video_path: str | Path, labels_path: str | Path,
               config: ClipConfig | None = None) -> dict:
    """Plan, render and write a clip (mp4) and its labels (JSON); returns the labels."""
    c = config or ClipConfig()
    shots = plan_clip(photos, c)
    labels = clip_labels(photos, shots, c)
    Path(video_path).parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), c.fps, (c.width, c.height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {video_path}")
    try:
        for frame in render_clip(photos, shots, c):
            writer.write(frame)
    finally:
        writer.release()
    labels["video"] = Path(video_path).name
    Path(labels_path).parent.mkdir(parents=True, exist_ok=True)
    Path(labels_path).write_text(json.dumps(labels, ensure_ascii=False) + "\n", encoding="utf-8")
    return labels
