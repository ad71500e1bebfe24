"""Labels a person can check against the plate: text on a filled box, sized to the photo, zeros slashed.

OpenCV's Hershey fonts draw O and 0 nearly alike (the zero's own slash is a hairline, lost at label
sizes), and plates hold both (A636OA199), so every zero gets a slash near the text's stroke width.
The fonts have no Cyrillic, so labels are written in the Latin look-alikes. The text's height is a
fixed share of the photo's longer side (`label_height`), so a label reads alike on a thumbnail and
on a 4K frame.
"""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_DUPLEX
TEXT_COLOUR = (0, 0, 0)  # BGR, on the fill


def label_height(shape: tuple[int, ...]) -> int:
    """Height in px of a label's capitals on an image of this shape: 1/40 of its longer side, at least 12."""
    return max(12, round(max(shape[:2]) / 40))


def label_size(text: str, height: int) -> tuple[int, int]:
    """(width, height) in px of the filled box `draw_label` draws for `text`."""
    scale, thickness, pad = _metrics(height)
    (w, h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    return w + 2 * pad, h + baseline + 2 * pad


def draw_label(canvas: np.ndarray, text: str, origin: tuple[int, int], height: int,
               fill: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """Write `text` in place on a box filled with `fill`, its top-left corner at `origin`, each 0 slashed.
    Returns the box (x0, y0, x1, y1), end-exclusive."""
    scale, thickness, pad = _metrics(height)
    (w, h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    x0, y0 = origin
    box = (x0, y0, x0 + w + 2 * pad, y0 + h + baseline + 2 * pad)
    cv2.rectangle(canvas, box[:2], (box[2] - 1, box[3] - 1), fill, cv2.FILLED)
    x, y = x0 + pad, y0 + pad + h  # the text's baseline
    cv2.putText(canvas, text, (x, y), FONT, scale, TEXT_COLOUR, thickness, cv2.LINE_AA)
    zero_w = cv2.getTextSize("0", FONT, scale, thickness)[0][0]
    for i, char in enumerate(text):
        if char == "0":  # a slash from the glyph's bottom left to its top right
            left = x + cv2.getTextSize(text[:i], FONT, scale, thickness)[0][0] if i else x
            cv2.line(canvas, (round(left + 0.3 * zero_w), round(y - 0.15 * h)),
                     (round(left + 0.7 * zero_w), round(y - 0.85 * h)), TEXT_COLOUR, max(1, thickness * 2 // 3),
                     cv2.LINE_AA)
    return box


def _metrics(height: int) -> tuple[float, int, int]:
    """Font scale, stroke thickness and box padding for capitals `height` px tall."""
    thickness = max(1, round(height / 10))
    return cv2.getFontScaleFromHeight(FONT, height, thickness), thickness, max(2, height // 4)
