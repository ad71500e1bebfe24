"""Scenes for the plate detector: synthetic photos and the detector's training samples.

`synthetic_photos` draws stand-in scenes (textured backgrounds with rendered plates) for the
notebook's embedded default. `PlateScenes` is the torch dataset the detector trains on: each item
warps a photo by one random homography (scale, rotation, perspective, crop around a plate or
anywhere), pastes rendered plates into it with a random perspective (their corners are known, so
they are extra targets), changes its light, blur and noise, and encodes the targets.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..detector.net import DetectorConfig, corners_to_box, encode_targets
from ..detector.photos import Photo, Plate
from .synth import PAD_X, PAD_Y, PLATE_H, PLATE_W, PlateRenderer

# ---- rendered plates pasted into images -----------------------------------------------------------
PLATE_SRC = np.array([[PAD_X, PAD_Y], [PAD_X + PLATE_W, PAD_Y], [PAD_X + PLATE_W, PAD_Y + PLATE_H],
                      [PAD_X, PAD_Y + PLATE_H]], np.float32)


def random_quad(rng: np.random.Generator, width: float, centre: tuple[float, float],
                max_angle: float = 15.0) -> np.ndarray:
    """Four corners (TL, TR, BR, BL) of a plate `width` px wide about `centre`, rotated and seen at a slant."""
    height = width * PLATE_H / PLATE_W * rng.uniform(0.85, 1.25)
    quad = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * [width, height]
    quad[[1, 2], 1] *= rng.uniform(0.8, 1.2)  # one side nearer the camera
    quad[[0, 3], 0] += rng.uniform(-0.1, 0.1) * height  # shear
    a = np.deg2rad(rng.uniform(-max_angle, max_angle))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return quad @ rot.T + np.asarray(centre)


def paste_plate(image: np.ndarray, canvas: np.ndarray, quad: np.ndarray, rng: np.random.Generator) -> None:
    """Warp the canvas's plate (and a thin rim of its surroundings) onto `quad` of `image`, in place."""
    h, w = image.shape
    grow = rng.uniform(0.0, 0.08)
    src = PLATE_SRC + np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32) * grow * PLATE_H
    centre = quad.mean(0)
    dst = (centre + (quad - centre) * (1 + grow * PLATE_H / PLATE_W * 2)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(np.clip(canvas, 0, 255).astype(np.uint8), matrix, (w, h), flags=cv2.INTER_AREA)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(dst * 16).astype(np.int32), 255, lineType=cv2.LINE_AA, shift=4)
    alpha = mask.astype(np.float32) / 255.0
    gain = rng.uniform(0.6, 1.15)
    image[:] = np.clip(image * (1 - alpha) + warped * gain * alpha, 0, 255).astype(np.uint8)


def synthetic_photos(renderer: PlateRenderer, n: int, seed: int, size: tuple[int, int] = (480, 640)) -> list[Photo]:
    """Stand-in scenes for runs without photos: smooth random backgrounds with shapes and 0-2 pasted plates."""
    rng = np.random.default_rng(seed)
    photos = []
    for i in range(n):
        h, w = size
        small = rng.normal(rng.uniform(60, 190), rng.uniform(10, 50), (h // 32, w // 32)).astype(np.float32)
        image = np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)
        for _ in range(int(rng.integers(3, 12))):  # boxes and bars: edges that are not plates
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            cv2.rectangle(image, (x, y), (x + int(rng.integers(10, 200)), y + int(rng.integers(5, 80))),
                          int(rng.integers(0, 256)), int(rng.choice([-1, 2])))
        plates = []
        for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
            width = float(np.exp(rng.uniform(np.log(50), np.log(220))))
            centre = (rng.uniform(width, w - width), rng.uniform(0.2 * h, 0.8 * h))
            quad = random_quad(rng, width, centre)
            if any(_overlaps(quad, p.corners) for p in plates):
                continue
            canvas, text = renderer.render_canvas(rng)
            paste_plate(image, canvas, quad, rng)
            plates.append(Plate(quad, text))
        photos.append(Photo(f"synthetic_{i}", cv2.GaussianBlur(image, (3, 3), 0.6), plates))
    return photos


def _overlaps(a: np.ndarray, b: np.ndarray, pad: float = 0.2) -> bool:
    ax0, ay0, ax1, ay1 = corners_to_box(a)
    bx0, by0, bx1, by1 = corners_to_box(b)
    px, py = pad * (ax1 - ax0), pad * (ay1 - ay0)
    return ax0 - px < bx1 and bx0 < ax1 + px and ay0 - py < by1 and by0 < ay1 + py


# ---- training samples -----------------------------------------------------------------------------
class PlateScenes(Dataset):
    """`length` augmented square crops (size x size: `DetectConfig.crop_size`) of `photos` with their targets,
    as the detector sees photos: each photo is first scaled as `letterbox` scales it for `input_size`, then by a
    random zoom. Each item's randomness comes from (seed, epoch, index), so any worker count gives the same."""

    def __init__(self, photos: list[Photo], length: int, size: int, input_size: int = DetectorConfig.input_size,
                 renderer: PlateRenderer | None = None, paste_prob: float = 0.5, seed: int = 0,
                 zoom: tuple[float, float] = (0.5, 1.7), max_angle: float = 12.0):
        self.photos, self.length, self.size, self.input_size = photos, length, size, input_size
        self.renderer, self.paste_prob, self.seed = renderer, paste_prob, seed
        self.zoom, self.max_angle = zoom, max_angle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw the next items' randomness for `epoch`, so each epoch sees new scenes."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        image, quads = self.sample(rng, self.photos[int(rng.integers(len(self.photos)))])
        heat, offsets, mask = encode_targets(quads, self.size, self.size)
        x = torch.from_numpy(image.astype(np.float32) / 127.5 - 1.0)[None]
        return x, torch.from_numpy(heat), torch.from_numpy(offsets), torch.from_numpy(mask)

    def sample(self, rng: np.random.Generator, photo: Photo) -> tuple[np.ndarray, list[np.ndarray]]:
        """One augmented crop of `photo` (grey uint8) and its plates' corners in the crop."""
        s = self.size
        h, w = photo.grey.shape
        scale = self.input_size / max(h, w) * float(np.exp(rng.uniform(*np.log(self.zoom))))
        if photo.plates and rng.random() < 0.85:
            target = photo.plates[int(rng.integers(len(photo.plates)))].corners.mean(0)
            centre = target + rng.uniform(-0.4, 0.4, 2) * s / scale
        else:
            centre = rng.uniform([0, 0], [w, h])
        a = np.deg2rad(rng.uniform(-self.max_angle, self.max_angle)) if rng.random() < 0.7 else 0.0
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * scale
        affine = np.eye(3)
        affine[:2, :2] = rot
        affine[:2, 2] = np.array([s / 2, s / 2]) - rot @ centre
        square = np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float32)
        jitter = (square + rng.uniform(-0.07, 0.07, (4, 2)) * s).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(square, jitter) @ affine
        flags = cv2.INTER_AREA if scale < 0.7 else cv2.INTER_LINEAR
        border = int(rng.integers(0, 256)) if rng.random() < 0.3 else 0
        image = cv2.warpPerspective(photo.grey, matrix, (s, s), flags=flags, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=border)
        quads = []
        for plate in photo.plates:
            quads.append(cv2.perspectiveTransform(plate.corners.reshape(1, 4, 2).astype(np.float64), matrix)[0])
        if self.renderer is not None and rng.random() < self.paste_prob:
            for _ in range(int(rng.integers(1, 3))):
                width = float(np.exp(rng.uniform(np.log(18), np.log(180))))
                quad = random_quad(rng, width, rng.uniform(width * 0.6, s - width * 0.6, 2))
                if any(_overlaps(quad, q) for q in quads):
                    continue
                canvas, _ = self.renderer.render_canvas(rng)
                paste_plate(image, canvas, quad, rng)
                quads.append(quad)
        return photometric(image, rng), quads


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light (gain, offset, gamma), blur (Gaussian or motion), noise and JPEG, each by chance."""
    x = image.astype(np.float32)
    x = x * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40)
    x = np.clip(x, 0, 255)
    if rng.random() < 0.3:
        x = 255.0 * (x / 255.0) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.6))
    elif rng.random() < 0.15:
        k = int(rng.integers(3, 8))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1.0 / k
        centre = (k / 2 - 0.5, k / 2 - 0.5)
        kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(centre, float(rng.uniform(0, 180)), 1.0), (k, k))
        x = cv2.filter2D(x, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < 0.3:
        x = x + rng.normal(0, rng.uniform(2, 10), x.shape)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else out
    return out
