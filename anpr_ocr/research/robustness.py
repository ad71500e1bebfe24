"""Controlled degradations of real crops, to see how accuracy falls with blur, size, noise, JPEG and tilt.

The VKCV crops are rectified (cut along the plate's four corners), so `tilt` (`augment.tilt`, which
training cuts real crops with too) stands in for what a box detector on another camera gives: the
axis-aligned box around a rotated plate, with background in the corners and the characters rotated
with it; `trim_left` and `trim_right` for a box cut too tight, into the outer characters. Every
degradation is deterministic, so runs compare.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ..core.data import Sample
from ..train.augment import tilt

Degrade = Callable[[np.ndarray, float], np.ndarray]


def blur(grey: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation `sigma` in pixels of the crop as it is."""
    return grey if sigma <= 0 else cv2.GaussianBlur(grey, (0, 0), sigma)


def downscale(grey: np.ndarray, width: float) -> np.ndarray:
    """The crop shrunk to `width` pixels wide (aspect kept); never enlarged."""
    w = int(width)
    if grey.shape[1] <= w:
        return grey
    h = max(2, round(grey.shape[0] * w / grey.shape[1]))
    return cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)


def noise(grey: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise of `std` grey levels (seeded: the same noise for every run)."""
    rng = np.random.default_rng(seed)
    return np.clip(grey + rng.normal(0, std, grey.shape), 0, 255).astype(np.uint8)


def jpeg(grey: np.ndarray, quality: float) -> np.ndarray:
    """Round trip through JPEG at `quality`."""
    ok, data = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def trim_left(grey: np.ndarray, percent: float) -> np.ndarray:
    """The crop with `percent` of its width cut away on the left, as a detector's tight box cuts into
    the first letter."""
    return grey[:, _share(grey, percent):]


def trim_right(grey: np.ndarray, percent: float) -> np.ndarray:
    """The crop with `percent` of its width cut away on the right, into the region code."""
    return grey[:, :grey.shape[1] - _share(grey, percent)]


def _share(grey: np.ndarray, percent: float) -> int:
    return int(round(percent / 100 * grey.shape[1]))


DEGRADATIONS: dict[str, tuple[Degrade, list[float], str]] = {
    "gaussian blur": (blur, [0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], "sigma, px"),
    "downscale": (downscale, [400, 160, 120, 100, 80, 60, 40], "crop width, px"),
    "noise": (noise, [0, 5, 10, 20, 30, 45], "std, grey levels"),
    "jpeg": (jpeg, [95, 50, 30, 20, 10, 5], "JPEG quality"),
    "tilt": (tilt, [0, 3, 6, 9, 12, 15], "box around a plate rotated by, degrees"),
}


def degrade_samples(samples: list[Sample], fn: Degrade, strength: float) -> list[Sample]:
    """Copies of `samples` with each image degraded by `fn` at `strength`; texts and sources kept."""
    return [Sample(fn(s.image, strength), s.text, s.source) for s in samples]


def robustness(read: Callable[[list[Sample]], float], samples: list[Sample],
               degradations: dict[str, tuple[Degrade, list[float], str]] = DEGRADATIONS
               ) -> dict[str, list[tuple[float, float]]]:
    """`{degradation: [(strength, exact match), ...]}`; `read` scores a list of samples."""
    return {name: [(s, read(degrade_samples(samples, fn, s))) for s in strengths]
            for name, (fn, strengths, _) in degradations.items()}
