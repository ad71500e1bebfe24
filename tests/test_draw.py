"""Drawings a person can check: labels on a filled box, sized to the photo, zeros slashed, confidence labelled."""

from __future__ import annotations

import numpy as np
import pytest

from anpr_ocr.pipeline.draw import draw_label, label_height, label_size
from anpr_ocr.pipeline.read import PhotoReading, draw_readings

GREEN, ORANGE, GREY = (0, 200, 0), (0, 165, 255), 90


def _label(text: str, height: int = 40) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    canvas = np.full((height * 3, height * 20, 3), GREY, np.uint8)
    box = draw_label(canvas, text, (10, 10), height, GREEN)
    return canvas, box


def _is(canvas: np.ndarray, colour) -> np.ndarray:
    return np.all(canvas == np.array(colour, np.uint8), axis=-1)


def test_a_label_is_text_on_a_box_filled_edge_to_edge():
    canvas, (x0, y0, x1, y1) = _label("A636OA199  conf 0.98")
    assert (x1 - x0, y1 - y0) == label_size("A636OA199  conf 0.98", 40)
    inside = canvas[y0:y1, x0:x1]
    rim = np.concatenate([inside[0], inside[-1], inside[:, 0], inside[:, -1]])
    assert _is(rim, GREEN).all()  # the fill reaches every edge of the box
    assert _is(inside, GREEN).mean() > 0.5
    assert (inside.max(axis=-1) < 60).mean() > 0.1  # black text on it
    outside = np.ones(canvas.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert (canvas[outside] == GREY).all()  # nothing drawn outside the box


def _glyph_middle(canvas: np.ndarray) -> np.ndarray:
    """The middle fifth, across and down, of where a one-glyph label's text is drawn."""
    ys, xs = np.nonzero(canvas.max(axis=-1) < 60)
    (x0, x1), (y0, y1) = (xs.min(), xs.max() + 1), (ys.min(), ys.max() + 1)
    w, h = x1 - x0, y1 - y0
    return canvas[y0 + 2 * h // 5:y0 + 3 * h // 5, x0 + 2 * w // 5:x0 + 3 * w // 5]


def test_zero_is_slashed_and_letter_o_is_not():
    """A label's 0 has text colour through its middle, its O none. (The font's own hairline slash alone
    would pass this too; that the drawn slash is heavier was judged by eye.)"""
    zero, letter = _label("0", 16)[0], _label("O", 16)[0]
    assert _is(_glyph_middle(letter), GREEN).all()
    assert (_glyph_middle(zero).max(axis=-1) < 60).any()  # dark: the text colour, anti-aliased


def _reading(box, text="A636OA199", confidence=0.98, valid=True, flagged=False) -> PhotoReading:
    x0, y0, x1, y1 = box
    return PhotoReading(text, confidence, (confidence,) * len(text), "private", valid, flagged, box,
                        ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.9)


def _label_box(canvas: np.ndarray, colour, above: float | None = None, below: float | None = None):
    """The box of the filled region of `colour` that lies wholly above y=`above` (or below y=`below`):
    the label, apart from the plate's outline in the same colour."""
    import cv2

    n, _, stats, _ = cv2.connectedComponentsWithStats(_is(canvas, colour).astype(np.uint8), connectivity=8)
    boxes = [(area, (x, y, x + w, y + h)) for x, y, w, h, area in stats[1:n]]
    return max((area, b) for area, b in boxes  # the largest: the glyphs' holes are components too
               if (above is not None and b[3] <= above) or (below is not None and b[1] >= below))[1]


@pytest.mark.parametrize("side", [480, 1920])
def test_labels_grow_with_the_photo_and_sit_above_the_plate(side):
    photo = np.full((side * 3 // 4, side, 3), GREY, np.uint8)
    plate = (side * 0.4, side * 0.4, side * 0.6, side * 0.45)
    drawn = draw_readings(photo, [_reading(plate)])
    x0, y0, x1, y1 = _label_box(drawn, GREEN, above=plate[1])
    assert (x1 - x0, y1 - y0) == label_size("A636OA199  conf 0.98", label_height(photo.shape))
    assert label_height(photo.shape) == round(side / 40)  # 12 px on 480 px, 48 px on 1920 px
    assert y1 <= plate[1] and x0 == int(plate[0])


def test_flagged_readings_are_orange_and_labels_stay_inside_the_photo():
    photo = np.full((300, 400), GREY, np.uint8)  # grey in, BGR out
    drawn = draw_readings(photo, [_reading((330, 2, 398, 20), flagged=True)])  # at the top right corner
    assert drawn.shape == (300, 400, 3) and not _is(drawn, GREEN).any()
    x0, y0, x1, y1 = _label_box(drawn, ORANGE, below=20)  # below the plate: no room above it
    assert x1 <= 400 and (x1 - x0, y1 - y0) == label_size("A636OA199  conf 0.98", 12)  # moved left into the photo
