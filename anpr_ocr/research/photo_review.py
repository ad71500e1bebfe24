"""Reviewing `read_plates` on whole photos: which photos it failed on, and how long it takes a photo.

`failures` matches readings to annotated plates (the notebook lists and draws the photos it returns);
`time_per_photo` times one photo a call, every kind of input interleaved photo by photo, so that a change in
the machine's load hits every kind alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..detector.net import box_iou

MATCH_IOU = 0.3  # a reading matches an annotated plate it overlaps this much with the same text


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
        missed = [p for p in photo.plates if not any(box_iou(r.box, p.box) >= MATCH_IOU and r.text == p.text
                                                     for r in rs)]
        extra = [r.text for r in rs if all(box_iou(r.box, p.box) == 0.0 for p in photo.plates)]
        if missed or extra:
            nearest = {p.text: max(rs, key=lambda r: box_iou(r.box, p.box)).text if rs else None for p in missed}
            out.append(PhotoFailure(i, photo.name, [p.text for p in photo.plates], [r.text for r in rs], nearest,
                                    extra))
    return out


def time_per_photo(read: Callable, inputs: dict[str, Sequence]) -> dict[str, float]:
    """Median and 90th percentile ms of `read(item)` a call, per kind of input ({"array": [...], "file": [...]},
    equally long), after one untimed call of each kind (loading, warm-up); keys "<kind>_median_ms", "<kind>_p90_ms"."""
    for items in inputs.values():
        read(items[0])
    times: dict[str, list[float]] = {kind: [] for kind in inputs}
    for i in range(min(len(items) for items in inputs.values())):
        for kind, items in inputs.items():
            start = time.perf_counter()
            read(items[i])
            times[kind].append((time.perf_counter() - start) * 1000)
    return {f"{kind}_{stat}_ms": float(f(t)) for kind, t in times.items()
            for stat, f in (("median", np.median), ("p90", lambda t: np.percentile(t, 90)))}
