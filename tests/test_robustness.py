"""The controlled degradations: each does what its name says, deterministically."""

from __future__ import annotations

import numpy as np
import pytest

from anpr_ocr.research import robustness
from anpr_ocr.train.augment import tilt


def _plate(h: int = 40, w: int = 160) -> np.ndarray:
    """A light crop with a dark horizontal bar through its middle."""
    grey = np.full((h, w), 200, dtype=np.uint8)
    grey[h // 2 - 3:h // 2 + 3, 20:w - 20] = 30
    return grey


def test_trims_cut_that_share_of_the_width_from_one_side():
    grey = np.arange(40 * 200, dtype=np.int64).reshape(40, 200).astype(np.uint8)
    left, right = robustness.trim_left(grey, 11), robustness.trim_right(grey, 8)
    assert left.shape == (40, 178) and right.shape == (40, 184)
    np.testing.assert_array_equal(left, grey[:, 22:])
    np.testing.assert_array_equal(right, grey[:, :184])
    assert robustness.trim_left(grey, 0).shape == robustness.trim_right(grey, 0).shape == grey.shape


def test_downscale_keeps_the_aspect_and_never_enlarges():
    grey = _plate()
    small = robustness.downscale(grey, 60)
    assert small.shape == (15, 60)
    assert robustness.downscale(grey, 400) is grey


def test_blur_noise_and_jpeg():
    grey = _plate()
    assert robustness.blur(grey, 0) is grey
    blurred = robustness.blur(grey, 2.0)
    assert blurred.shape == grey.shape and blurred.std() < grey.std()
    noisy = robustness.noise(grey, 10)
    assert np.array_equal(noisy, robustness.noise(grey, 10))  # seeded: the same noise every run
    assert np.abs(noisy.astype(float) - grey).mean() == pytest.approx(10 * np.sqrt(2 / np.pi), rel=0.1)
    for quality, worst in ((95, 12), (5, 120)):
        out = robustness.jpeg(grey, quality)
        assert out.shape == grey.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - grey).max() <= worst


def test_robustness_scores_every_strength(val_samples):
    samples = val_samples[:6]
    wide = lambda batch: float(np.mean([s.image.shape[1] >= 100 for s in batch]))  # noqa: E731
    curves = robustness.robustness(wide, samples, {"downscale": robustness.DEGRADATIONS["downscale"]})
    points = dict(curves["downscale"])
    assert list(points) == robustness.DEGRADATIONS["downscale"][1]
    assert 0 < points[400] == wide(samples) == points[100]  # crops 100 px or wider stay so
    assert points[80] == 0.0
    tilted = robustness.degrade_samples(samples, tilt, 12)
    assert [s.text for s in tilted] == [s.text for s in samples]
    assert all(t.image.shape[0] > s.image.shape[0] for t, s in zip(tilted, samples))
