"""On-the-fly training augmentation for grey crops, real and synthetic alike (albumentations).

It covers what real cameras do to a plate crop: a slightly wrong crop box and perspective, blur
(defocus, motion), low resolution (down then up), sensor noise, exposure and contrast, and JPEG
artefacts. For real crops, which are cut along the plate's corners, `box_tilt` adds what a box
detector gives on another camera: the axis-aligned box around a tilted plate (the renderer draws
such crops for synthetic plates itself). Evaluation and prediction never augment.
"""

from __future__ import annotations

import warnings
from typing import Any

import albumentations as A
import cv2
import numpy as np


def tilt(grey: np.ndarray, degrees: float) -> np.ndarray:
    """The crop rotated by `degrees` and cut as the axis-aligned box around it, the corners filled by
    repeating the crop's edge (as a box detector cuts a tilted plate from its surroundings)."""
    if degrees == 0:
        return grey
    h, w = grey.shape[:2]
    rad = np.deg2rad(abs(degrees))
    out_w = int(np.ceil(w * np.cos(rad) + h * np.sin(rad)))
    out_h = int(np.ceil(w * np.sin(rad) + h * np.cos(rad)))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[:, 2] += ((out_w - w) / 2, (out_h - h) / 2)
    return cv2.warpAffine(grey, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class TiltedBox(A.ImageOnlyTransform):
    """The crop rotated by up to `limit` degrees either way and cut as the axis-aligned box around it."""

    def __init__(self, limit: float = 10.0, p: float = 0.25):
        super().__init__(p=p)
        self.limit = limit

    def get_params(self) -> dict:
        """Draw this call's tilt, in degrees."""
        return {"degrees": self.py_random.uniform(-self.limit, self.limit)}

    def apply(self, img: np.ndarray, degrees: float = 0.0, **params: Any) -> np.ndarray:
        """The image tilted by `degrees` (`tilt`), grey or with one channel axis as it came."""
        out = tilt(img[:, :, 0] if img.ndim == 3 else img, degrees)
        return out[:, :, None] if img.ndim == 3 else out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        """The constructor arguments albumentations serializes."""
        return ("limit",)


def train_augmentation(seed: int | None = None, strength: float = 1.0, box_tilt: float = 0.0,
                       box_tilt_fraction: float = 0.25) -> A.Compose:
    """The augmentation pipeline; `strength` scales how often each degradation fires, and `box_tilt` > 0
    first cuts `box_tilt_fraction` of the crops as the box around the crop tilted by up to that many degrees."""
    p = lambda base: min(1.0, base * strength)  # noqa: E731
    tilted = [TiltedBox(limit=box_tilt, p=p(box_tilt_fraction))] if box_tilt > 0 else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # albumentations' own version-check chatter
        return A.Compose(tilted + [
            A.CropAndPad(percent=(-0.06, 0.08), keep_size=False, sample_independently=True,
                         border_mode=cv2.BORDER_REPLICATE, p=p(0.6)),
            A.Affine(rotate=(-4, 4), shear={"x": (-8, 8), "y": (-3, 3)}, scale=(0.95, 1.05),
                     border_mode=cv2.BORDER_REPLICATE, p=p(0.5)),
            A.Perspective(scale=(0.01, 0.05), border_mode=cv2.BORDER_REPLICATE, p=p(0.3)),
            A.OneOf([
                A.GaussianBlur(blur_limit=(3, 7), sigma_limit=(0.3, 1.6)),
                A.MotionBlur(blur_limit=(3, 7)),
                A.Defocus(radius=(1, 3), alias_blur=(0.1, 0.3)),
            ], p=p(0.4)),
            A.Downscale(scale_range=(0.25, 0.8), interpolation_pair={"downscale": cv2.INTER_AREA,
                                                                     "upscale": cv2.INTER_LINEAR}, p=p(0.35)),
            A.GaussNoise(std_range=(0.01, 0.06), p=p(0.3)),
            A.RandomBrightnessContrast(brightness_limit=(-0.25, 0.2), contrast_limit=(-0.35, 0.25), p=p(0.5)),
            A.RandomGamma(gamma_limit=(70, 140), p=p(0.3)),
            A.ImageCompression(quality_range=(15, 90), p=p(0.35)),
        ], seed=seed)


def apply(augmentation: A.Compose | None, grey: np.ndarray) -> np.ndarray:
    """Augment one grey uint8 crop (identity when `augmentation` is None)."""
    if augmentation is None:
        return grey
    out = augmentation(image=grey)["image"]
    return out[:, :, 0] if out.ndim == 3 else out
