"""research.large_photos: padded photos and close-ups carry their plates' corners onto their pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anpr_ocr.detector.photos import load_photos
from anpr_ocr.research.large_photos import close_ups, padded


def test_large_photos_carry_their_plates_corners(photos_root):
    """The pixels inside a plate's box are the same in a padded photo and a close-up (up to scaling) as in the photo."""
    photos = [p for p in load_photos(photos_root / "val")[:5] if p.plates]
    for photo, big in zip(photos, padded(photos, 2.0)):
        assert big.grey.shape[0] >= 2 * photo.grey.shape[0] - 1 and big.grey.shape[1] >= 2 * photo.grey.shape[1] - 1
        for plate, moved in zip(photo.plates, big.plates):
            x0, y0, x1, y1 = (int(v) for v in plate.box)
            dx, dy = np.round(moved.corners - plate.corners)[0]
            np.testing.assert_array_equal(big.grey[y0 + int(dy):y1 + int(dy), x0 + int(dx):x1 + int(dx)],
                                          photo.grey[y0:y1, x0:x1])
            assert moved.text == plate.text
    for photo, close in zip(photos, close_ups(photos)):
        assert close.grey.shape[1] == 2048 and close.plates[0].text == photo.plates[0].text
        box = close.plates[0].box
        assert box[2] - box[0] >= 2048 / 3 - 1  # three plate widths across the window, fewer where the photo ends
        x0, y0, x1, y1 = (int(round(v)) for v in photo.plates[0].box)
        u0, v0, u1, v1 = (int(round(v)) for v in box)
        back = cv2.resize(close.grey[v0:v1, u0:u1], (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        original = photo.grey[y0:y1, x0:x1].astype(float)
        assert np.abs(back - original).mean() < 0.2 * original.std()  # the plate, scaled up and back


def test_a_photo_cannot_shrink_into_its_canvas():
    with pytest.raises(ValueError, match="factor"):
        padded([], 0.5)
