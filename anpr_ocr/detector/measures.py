"""Detection and end-to-end scores over photos: pure functions of detections and annotations, and
`evaluate_detector`, which runs a detector to score it.

- `average_precision`: all-point interpolated AP (the area under the precision envelope, as
  PASCAL VOC 2010+ and COCO compute it) at one box IoU, detections of all photos ranked together.
- `corner_error`: mean distance in pixels between the corners of each annotated plate and those of
  its detection (the best-IoU one at IoU >= 0.5).
- `evaluate_detector`: AP@0.5, AP@0.75 and corner error of a detector on annotated photos.
- `end_to_end`: found (a detected box at IoU >= 0.5), read (a reading at IoU >= 0.3 whose text is
  exactly the plate's) and extra (readings that overlap no annotated plate) as counts and rates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .net import PlateDetector, box_iou, corners_to_box, detect_batch
from .photos import Photo

Box = tuple[float, float, float, float]
FOUND_IOU = 0.5  # a detection finds an annotated plate it overlaps this much
READ_IOU = 0.3  # a reading reads an annotated plate it overlaps this much with the same text


def average_precision(detections: Sequence[Sequence[tuple[Box, float]]], truths: Sequence[Sequence[Box]],
                      iou: float = 0.5) -> float:
    """AP at `iou` over photos: detections[i] = [(box, score)], truths[i] = [box]. Each annotated box
    matches at most one detection, greedily by score; 0.0 when nothing is annotated."""
    ranked = sorted(((score, i, box) for i, dets in enumerate(detections) for box, score in dets),
                    key=lambda t: -t[0])
    n_truth = sum(len(t) for t in truths)
    if n_truth == 0:
        return 0.0
    used = [np.zeros(len(t), bool) for t in truths]
    hits = np.zeros(len(ranked))
    for k, (_, i, box) in enumerate(ranked):
        overlaps = [box_iou(box, t) for t in truths[i]]
        j = int(np.argmax(overlaps)) if overlaps else -1
        if j >= 0 and overlaps[j] >= iou and not used[i][j]:
            used[i][j] = True
            hits[k] = 1
    tp = np.cumsum(hits)
    recall = tp / n_truth
    precision = tp / np.arange(1, len(ranked) + 1)
    # all-point interpolation: precision made monotone from the right, integrated over recall
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def match(boxes: Sequence[Box], truths: Sequence[Box], iou: float) -> list[int]:
    """For each annotated box, the index of the best-overlapping box at >= `iou`, or -1."""
    out = []
    for t in truths:
        overlaps = [box_iou(b, t) for b in boxes]
        j = int(np.argmax(overlaps)) if overlaps else -1
        out.append(j if j >= 0 and overlaps[j] >= iou else -1)
    return out


def corner_error(detected: Sequence[Sequence[np.ndarray]], truths: Sequence[Sequence[np.ndarray]]) -> float:
    """Mean corner distance (px) between annotated plates and their detections at IoU >= 0.5
    (NaN when no plate is found). detected[i], truths[i]: (4, 2) corner arrays of photo i."""
    errors = []
    for dets, plates in zip(detected, truths):
        boxes = [corners_to_box(d) for d in dets]
        for plate, j in zip(plates, match(boxes, [corners_to_box(p) for p in plates], FOUND_IOU)):
            if j >= 0:
                errors.append(np.linalg.norm(np.asarray(dets[j]) - np.asarray(plate), axis=1).mean())
    return float(np.mean(errors)) if errors else float("nan")


def end_to_end(readings: Sequence[Sequence[tuple[Box, str]]], truths: Sequence[Sequence[tuple[Box, str | None]]],
               detected: Sequence[Sequence[Box]] | None = None) -> dict:
    """found / read / extra over photos. readings[i] = [(box, text)] reported for photo i, truths[i] =
    [(box, text)] annotated; `detected` (boxes before any reading filter) counts found, else readings do.
    "reported" counts the plates a reported reading finds (IoU >= 0.5), whichever counts found."""
    reported_boxes = [[b for b, _ in r] for r in readings]
    detected = detected if detected is not None else reported_boxes
    plates = sum(len(t) for t in truths)
    found = reported = read = extra = 0
    for dets, shown, reads, plates_i in zip(detected, reported_boxes, readings, truths):
        boxes = [b for b, _ in plates_i]
        found += sum(j >= 0 for j in match(dets, boxes, FOUND_IOU))
        reported += sum(j >= 0 for j in match(shown, boxes, FOUND_IOU))
        for (box, text) in plates_i:
            read += any(box_iou(b, box) >= READ_IOU and t == text for b, t in reads)
        extra += sum(all(box_iou(b, t) == 0.0 for t in boxes) for b, _ in reads)
    photos = len(truths)
    return {"photos": photos, "plates": plates, "found": found, "reported": reported, "read": read, "extra": extra,
            "found_rate": found / plates if plates else float("nan"),
            "reported_rate": reported / plates if plates else float("nan"),
            "read_rate": read / plates if plates else float("nan"),
            "extra_per_photo": extra / photos if photos else float("nan")}


def score_photos(photos: Sequence, readings: Sequence[Sequence], detections: Sequence[Sequence] | None = None) -> dict:
    """found / read / extra (`end_to_end`) of `read_plates` readings against annotated photos
    (objects with `.plates`, each with `.box` and `.text`), plus the mean corner error of the readings.
    `detections` (objects with `.box`: the readings before the confidence floor) count found, else the
    readings do."""
    truths = [[(p.box, p.text) for p in photo.plates] for photo in photos]
    detected = None if detections is None else [[d.box for d in ds] for ds in detections]
    scores = end_to_end([[(r.box, r.text) for r in rs] for rs in readings], truths, detected)
    scores["corner_error_px"] = corner_error([[np.asarray(r.corners) for r in rs] for rs in readings],
                                             [[p.corners for p in photo.plates] for photo in photos])
    return scores


def evaluate_detector(model: PlateDetector, photos: list[Photo], threshold: float = 0.05) -> dict:
    """AP@0.5, AP@0.75 and mean corner error (px) of `model` on annotated photos (low threshold: AP
    needs the whole ranking)."""
    found = detect_batch(model, [p.grey for p in photos], threshold)
    dets = [[(d.box, d.score) for d in f] for f in found]
    truths = [[pl.box for pl in p.plates] for p in photos]
    ap50, ap75 = average_precision(dets, truths, 0.5), average_precision(dets, truths, 0.75)
    err = corner_error([[d.corners for d in f if d.score >= 0.3] for f in found],
                       [[pl.corners for pl in p.plates] for p in photos])
    return {"ap50": ap50, "ap75": ap75, "ap": (ap50 + ap75) / 2, "corner_error_px": err}
