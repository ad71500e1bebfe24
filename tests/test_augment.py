import albumentations as A
import numpy as np
import pytest

from anpr_ocr.train.augment import TiltedBox, apply, tilt, train_augmentation


def _bar(h: int = 30, w: int = 120) -> np.ndarray:
    """A white crop with a black horizontal bar through its middle row band."""
    grey = np.full((h, w), 255, np.uint8)
    grey[h // 2 - 2:h // 2 + 2, 10:w - 10] = 0
    return grey


def test_augmentation_keeps_grey_uint8():
    grey = np.random.default_rng(0).integers(0, 256, (40, 150)).astype(np.uint8)
    aug = train_augmentation(seed=0, strength=2.0, box_tilt=12)
    for _ in range(10):
        out = apply(aug, grey)
        assert out.ndim == 2 and out.dtype == np.uint8
    assert apply(None, grey) is grey


def test_tilt_is_the_box_around_the_rotated_crop():
    grey = np.full((40, 160), 200, np.uint8)
    grey[17:23, 20:140] = 30  # a dark horizontal bar through the middle
    assert tilt(grey, 0) is grey
    out = tilt(grey, 10)
    rad = np.deg2rad(10)
    assert out.shape == (int(np.ceil(160 * np.sin(rad) + 40 * np.cos(rad))),
                         int(np.ceil(160 * np.cos(rad) + 40 * np.sin(rad))))
    assert out.dtype == np.uint8
    # the corners repeat the crop's light edge instead of going black
    assert min(out[0, 0], out[0, -1], out[-1, 0], out[-1, -1]) >= 190
    # the bar now climbs: counter-clockwise by 10 degrees, its right end sits higher than its left
    cols = (40, out.shape[1] - 40)
    rows = [np.flatnonzero(out[:, c] < 100).mean() for c in cols]
    assert rows[0] - rows[1] == pytest.approx((cols[1] - cols[0]) * np.tan(rad), abs=2.0)
    assert tilt(grey, -10).shape == out.shape


def test_tilted_box_is_tilt_at_a_drawn_angle():
    grey = _bar()
    box = TiltedBox(limit=10, p=1.0)
    for seed in range(5):
        box.set_random_seed(seed)
        params = box.get_params()
        assert -10 <= params["degrees"] <= 10
        np.testing.assert_array_equal(box.apply(grey, **params), tilt(grey, params["degrees"]))
        np.testing.assert_array_equal(box.apply(grey[:, :, None], **params)[:, :, 0], tilt(grey, params["degrees"]))


def test_tilted_box_grows_the_crop_within_its_limit_and_is_seeded():
    grey = _bar()
    h, w = grey.shape
    rad = np.deg2rad(8)
    widest = int(np.ceil(w * np.cos(rad) + h * np.sin(rad)))
    tallest = int(np.ceil(w * np.sin(rad) + h * np.cos(rad)))
    shapes = []
    for seed in range(20):
        out = apply(A.Compose([TiltedBox(limit=8, p=1.0)], seed=seed), grey)
        again = apply(A.Compose([TiltedBox(limit=8, p=1.0)], seed=seed), grey)
        np.testing.assert_array_equal(out, again)
        assert out.dtype == np.uint8 and out.ndim == 2
        assert h <= out.shape[0] <= tallest and w - 1 <= out.shape[1] <= widest
        shapes.append(out.shape)
    assert len(set(shapes)) >= 10  # the angle is drawn anew for each seed


def test_tilted_box_fires_on_about_half_the_crops():
    grey = _bar()
    aug = A.Compose([TiltedBox(limit=12, p=0.5)], seed=0)
    changed = sum(apply(aug, grey).shape != grey.shape for _ in range(400))
    assert 160 <= changed <= 240


@pytest.mark.parametrize("box_tilt, first", [(0.0, A.CropAndPad), (12.0, TiltedBox)])
def test_train_augmentation_puts_the_tilted_box_first_only_when_asked(box_tilt, first):
    transforms = train_augmentation(box_tilt=box_tilt).transforms
    assert isinstance(transforms[0], first)
    assert sum(isinstance(t, TiltedBox) for t in transforms) == (box_tilt > 0)
    if box_tilt:
        assert transforms[0].limit == box_tilt and transforms[0].p == 0.25
