"""Winter photos: each annotated plate covered by a winter render at its corners, the rest of the photo kept."""

import cv2
import numpy as np

from anpr_ocr.detector.photos import Photo, Plate
from anpr_ocr.research.winter_photos import winter_photos, winter_renderer


def _photo() -> Photo:
    grey = np.full((240, 320), 100, np.uint8)
    corners = np.array([[60, 100], [220, 100], [220, 135], [60, 135]], np.float64)
    return Photo("street", grey, [Plate(corners, "A123BC77")])


def test_the_plate_is_covered_by_a_render_and_the_rest_of_the_photo_is_kept():
    photo = _photo()
    (winter,) = winter_photos([photo], winter_renderer(), seed=0)
    plate = winter.plates[0]
    np.testing.assert_array_equal(plate.corners, photo.plates[0].corners)
    assert plate.text != "A123BC77" and len(plate.text) >= 6  # the render's own text
    inside = np.zeros(photo.grey.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(plate.corners).astype(np.int32), 1)
    changed = winter.grey != photo.grey
    assert changed[inside == 1].mean() > 0.9
    far = cv2.dilate(inside, np.ones((41, 41), np.uint8)) == 0  # well clear of the plate and its rim
    assert not changed[far].any()
    assert np.array_equal(photo.grey, np.full((240, 320), 100, np.uint8))  # the input is not touched


def test_the_same_seed_draws_the_same_renders():
    photo = _photo()
    a, b, c = (winter_photos([photo], winter_renderer(), seed) for seed in (3, 3, 4))
    assert np.array_equal(a[0].grey, b[0].grey) and a[0].plates[0].text == b[0].plates[0].text
    assert not np.array_equal(a[0].grey, c[0].grey)
