"""Reviewing `read_plates` on whole photos: what it finds and reads, which photos it failed on, how long it takes.

`end_to_end_scores` scores `read_plates` on annotated photos (found counted before the confidence floors);
`failures` matches readings to annotated plates (the notebook lists and draws the photos it returns);
`time_per_photo` times one photo a call, every kind of input interleaved photo by photo, so that a change in
the machine's load hits every kind alike (each timed call after an untimed one of its own kind), and
`photo_speed` times `read_plates` that way on photos and files.
`detect_train.ipynb` and `scripts/rescore_detector.py` score a detector with these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..detector.measures import READ_IOU, score_photos
from ..detector.net import box_iou
from ..pipeline.read import MIN_READING_CONFIDENCE, MIN_VALID_READING_CONFIDENCE, read_plates, reported


@dataclass(frozen=True)
class PhotoFailure:
    """A photo with an annotated plate not read (`missed`: its text -> the text read nearest it, None when
    nothing was read on the photo) or a reading that overlaps no annotated plate (`extra`)."""

    index: int
    name: str
    annotated: list
    read: list
    missed: dict
    extra: list


def failures(photos: Sequence, readings: Sequence[Sequence]) -> list[PhotoFailure]:
    """The photos (objects with `.name` and `.plates`, each with `.box` and `.text`) whose readings (objects
    with `.box` and `.text`) miss a plate or read one where none is annotated."""
    out = []
    for i, (photo, rs) in enumerate(zip(photos, readings)):
        missed = [p for p in photo.plates if not any(box_iou(r.box, p.box) >= READ_IOU and r.text == p.text
                                                     for r in rs)]
        extra = [r.text for r in rs if all(box_iou(r.box, p.box) == 0.0 for p in photo.plates)]
        if missed or extra:
            nearest = {p.text: max(rs, key=lambda r: box_iou(r.box, p.box)).text if rs else None for p in missed}
            out.append(PhotoFailure(i, photo.name, [p.text for p in photo.plates], [r.text for r in rs], nearest,
                                    extra))
    return out


def time_per_photo(read: Callable, inputs: dict[str, Sequence]) -> dict[str, float]:
    """Median, 90th percentile and mean ms of `read(item)` a call, per kind of input ({"array": [...], "file":
    [...]}, equally long), after one untimed call of each kind (loading, warm-up); keys "<kind>_median_ms",
    "<kind>_p90_ms", "<kind>_mean_ms".
    Each item is read twice in a row and the second call timed: PyTorch's OpenMP workers spin on after a call and
    slow whatever the process runs next (docs/experiments.md), so each timed call follows a call of its own kind,
    as in a process that reads one way only."""
    for items in inputs.values():
        read(items[0])
    times: dict[str, list[float]] = {kind: [] for kind in inputs}
    for i in range(min(len(items) for items in inputs.values())):
        for kind, items in inputs.items():
            read(items[i])
            start = time.perf_counter()
            read(items[i])
            times[kind].append((time.perf_counter() - start) * 1000)
    return {f"{kind}_{stat}_ms": float(f(t)) for kind, t in times.items()
            for stat, f in (("median", np.median), ("p90", lambda t: np.percentile(t, 90)), ("mean", np.mean))}


def end_to_end_scores(photos: Sequence, detector: str | Path | None = None,
                      min_reading_confidence: float = MIN_READING_CONFIDENCE,
                      min_valid_reading_confidence: float = MIN_VALID_READING_CONFIDENCE, **options: Any) -> dict:
    """found / reported / read / extra of `read_plates(..., **options)` with these floors on annotated photos
    (`detector.measures.score_photos`): found counts the plates detected, before the floors. The photos are read
    once, with no floor, and the floors applied as `read_plates` applies them (`pipeline.read.reported`)."""
    every = read_plates([p.grey for p in photos], detector=detector, min_reading_confidence=0.0,
                        min_valid_reading_confidence=0.0, **options)
    kept = [[r for r in rs if reported(r, min_reading_confidence, min_valid_reading_confidence)] for rs in every]
    return score_photos(photos, kept, detections=every)


def photo_speed(photos: Sequence, detector: str | Path | None = None, limit: int = 100) -> dict:
    """`read_plates`' time a photo (`time_per_photo`) on the first `limit` photos at torch's thread count: from
    decoded BGR arrays, and from their files (decoding included) where the photos have files."""
    timed = list(photos[:limit])
    inputs = {"array": [cv2.imread(p.path) if p.path else cv2.cvtColor(p.grey, cv2.COLOR_GRAY2BGR) for p in timed]}
    if timed and timed[0].path:
        inputs["file"] = [p.path for p in timed]
    return {"photos": len(timed), "threads": torch.get_num_threads(),
            **time_per_photo(lambda item: read_plates(item, detector=detector), inputs)}


def paired_by_seed(rows: Sequence[dict[str, dict]], baseline: str,
                   measures: Sequence[str] = ("found", "read", "extra")) -> dict[str, dict]:
    """Each setup's difference from `baseline` render seed by render seed: `rows` holds one dict a seed, setup ->
    its scores there (`end_to_end_scores`); for every other setup and measure, the differences' total over the
    seeds, their mean and their standard deviation (None with one seed). One set of renders cannot tell apart
    setups that differ by a plate or two; the spread of the paired differences says how far one seed moves them."""
    paired = {}
    for name in [n for n in rows[0] if n != baseline]:
        for measure in measures:
            d = np.array([row[name][measure] - row[baseline][measure] for row in rows])
            paired[f"{name}, {measure}"] = {"total": int(d.sum()), "mean": float(d.mean()),
                                            "sd": float(d.std(ddof=1)) if len(d) > 1 else None}
    return paired
