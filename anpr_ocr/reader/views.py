"""Other views of a plate the reader is unsure of, read as one with the first.

    sure(decoded)                  # a valid plate read with at least SURE_CONFIDENCE: one view is enough
    crop_views(grey)               # the crop trimmed and the crop padded, each by VIEW_MARGINS on every side
    as_one(probs, decoded, unsure, more, decoder)   # the unsure readings, each now over all its views

A crop is cut by someone else: a detector, a person, a camera's fixed window. Its margins may hold a bolt or the
plate's frame, or pass close to a letter. Where the first reading is not sure, `predict` reads the crop again
trimmed (the margins' clutter leaves the picture) and padded with its edge pixels (a letter at the edge moves in
from the border), and the three read as one: the string most probable over them (`decode.consensus`). Out of fold
the second look read more crops right than it lost, on both seeds tried (docs/experiments.md, "Two more views of an
unsure crop"). `read_plates` reads its unsure plates from other cuts of the photo instead, wider than any crop.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..core.alphabet import ALPHABET
from ..core.formats import plate_type
from .decode import Decoded, consensus, decode

SURE_CONFIDENCE = 0.9  # a valid reading at least this sure stands without other views
VIEW_MARGINS = (0.05, 0.10)  # a crop's other views: trimmed and padded by these shares of its width, height a side


def sure(decoded: Decoded, sure_confidence: float = SURE_CONFIDENCE) -> bool:
    """Whether a reading stands without other views: a valid plate read with at least `sure_confidence`."""
    return decoded.confidence >= sure_confidence and plate_type(decoded.text) is not None


def crop_views(grey: np.ndarray, margins: tuple[float, float] = VIEW_MARGINS) -> list[np.ndarray]:
    """A grey crop trimmed by `margins` (shares of its width, height) on every side, and the crop padded by as
    much with its edge pixels. A crop too small to trim keeps its size in the trimmed view."""
    h, w = grey.shape[:2]
    dx, dy = round(w * margins[0]), round(h * margins[1])
    trimmed = grey[dy:h - dy, dx:w - dx] if h > 2 * dy and w > 2 * dx else grey
    return [np.ascontiguousarray(trimmed), cv2.copyMakeBorder(grey, dy, dy, dx, dx, cv2.BORDER_REPLICATE)]


def as_one(probs: np.ndarray, decoded: Sequence[Decoded], unsure: Sequence[int], more: np.ndarray,
           decoder: str) -> list[Decoded]:
    """`decoded` (the readings of the first views, whose frame probabilities are `probs`) with each reading at
    an index in `unsure` replaced by the reading over all its views; `more` holds the frame probabilities of
    the other views, as many per unsure item, in its order."""
    out = list(decoded)
    if not unsure:
        return out
    if len(more) % len(unsure):
        raise ValueError(f"need as many other views for each of the {len(unsure)} unsure items, got {len(more)}")
    views = len(more) // len(unsure) + 1
    others = iter(decode(more, decoder, ALPHABET))
    per_view = [r for i in unsure for r in [decoded[i], *(next(others) for _ in range(views - 1))]]
    stacked = np.concatenate([probs[list(unsure), None], more.reshape(len(unsure), views - 1, *more.shape[1:])], 1)
    for i, r in zip(unsure, consensus(stacked.reshape(-1, *stacked.shape[2:]), views, per_view, decoder,
                                      alphabet=ALPHABET)):
        out[i] = r
    return out
