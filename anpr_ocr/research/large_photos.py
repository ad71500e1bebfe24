"""Large photos made from annotated ones: the detector on plates that are small, or very large, in its input.

The VKCV photos are at most 1,024 px on their longer side, so their plates reach the detector's 640 px input at
30-200 px wide, the sizes it trained on. Photos from other cameras are often larger. Two ways to make such
photos from the annotated ones, with their plates' corners carried along:

    from anpr_ocr.research.large_photos import padded, close_ups
    padded(photos, 2.0)      # each photo in the middle of a grey canvas twice its side: plates keep their pixels
    close_ups(photos)        # a window three plate widths wide around each first plate, scaled to 2,048 px wide

A padded photo shows its plates at half the size they had in the detector's input; a close-up shows one plate
several hundred pixels wide. Neither is a real large photo (a canvas holds no scene, a scaled window no new
detail): they rank detector changes on plate sizes VKCV lacks, and forecast no street's figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2

from ..detector.net import corners_to_box
from ..detector.photos import Photo, Plate

CANVAS_GREY = 114  # the canvas around a padded photo


def padded(photos: Sequence[Photo], factor: float) -> list[Photo]:
    """Each photo in the middle of a grey canvas `factor` times its width and height, its plates moved with it."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    out = []
    for p in photos:
        h, w = p.grey.shape
        top, left = int(h * (factor - 1) / 2), int(w * (factor - 1) / 2)
        grey = cv2.copyMakeBorder(p.grey, top, top, left, left, cv2.BORDER_CONSTANT, value=CANVAS_GREY)
        plates = [Plate(pl.corners + (left, top), pl.text) for pl in p.plates]
        out.append(Photo(f"{p.name}_x{factor:g}", grey, plates))
    return out


def close_ups(photos: Sequence[Photo], width: int = 2048, plate_widths: float = 3.0) -> list[Photo]:
    """For each photo with a plate: a 4:3 window `plate_widths` times its first plate's width, centred on it,
    scaled to `width` px wide, with the plates that lie wholly inside it."""
    out = []
    for p in photos:
        if not p.plates:
            continue
        x0, y0, x1, y1 = corners_to_box(p.plates[0].corners)
        cx, cy, half_w = (x0 + x1) / 2, (y0 + y1) / 2, plate_widths * (x1 - x0) / 2
        h, w = p.grey.shape
        left, top = int(max(0, cx - half_w)), int(max(0, cy - half_w * 0.75))
        right, bottom = int(min(w, cx + half_w)), int(min(h, cy + half_w * 0.75))
        scale = width / (right - left)
        grey = cv2.resize(p.grey[top:bottom, left:right], None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        inside = [pl for pl in p.plates if _within(pl.box, (left, top, right, bottom))]
        plates = [Plate((pl.corners - (left, top)) * scale, pl.text) for pl in inside]
        out.append(Photo(f"{p.name}_close", grey, plates))
    return out


def _within(box: tuple[float, ...], window: tuple[int, ...]) -> bool:
    return box[0] >= window[0] and box[1] >= window[1] and box[2] <= window[2] and box[3] <= window[3]
