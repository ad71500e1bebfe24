"""Winter and wear on a rendered plate: slush, mud in the strokes, salt, snow, faded paint, glare.

Plates on other streets look unlike the VKCV crops mostly in winter: grey-brown slush sprayed up by
the wheels and caked over the lower third of the plate and its frame, mud that fills the counters of
6, 8, 0 and 3 (and closes C into O, M towards Y), a whitish salt crust, snow lodged in the corners,
grey text on a grey plate, a bright glare. `weather` draws one or a few of these on the renderer's
canvas (1 px per millimetre, grey float32, the plate at `plate_box`), before the light and the warp,
so they are lit, blurred and warped with the plate.

Each effect is drawn from one `numpy.random.Generator`, so a seed reproduces a plate.
"""

from __future__ import annotations

import cv2
import numpy as np

# Luminance of the grey-brown slush and mud, and of salt and snow (0-255).
SLUSH_TONE = (70.0, 150.0)
SALT_TONE = (170.0, 230.0)
SNOW_TONE = (215.0, 255.0)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 of the plate on the canvas


def weather(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """One to three winter or wear effects, in place; which ones is drawn from `rng`."""
    effects = (slush, mud_in_strokes, salt_crust, snow_in_corners, faded, glare)
    shares = np.array([0.35, 0.2, 0.15, 0.1, 0.12, 0.08])
    count = 1 + int(rng.random() < 0.25)
    for i in rng.choice(len(effects), size=count, replace=False, p=shares / shares.sum()):
        effects[i](canvas, rng, plate_box)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Noise in [0, 1] smooth over `cell` pixels."""
    small = rng.random((max(2, shape[0] // cell), max(2, shape[1] // cell))).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def slush(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """Grey-brown slush sprayed from below: caked from the bottom edge up to a ragged line (up to about
    two fifths of the plate's height, thin enough that a person still reads the glyphs under it),
    droplets above it, thinning upwards."""
    x0, y0, x1, y1 = plate_box
    h, w = canvas.shape
    height = y1 - y0
    line = y1 - height * rng.uniform(0.1, 0.45)  # where the caked layer ends, plate coordinates
    ragged = (smooth_noise(rng, (1, w), int(rng.integers(8, 40)))[0] - 0.5) * height * rng.uniform(0.1, 0.4)
    rows = np.arange(h, dtype=np.float32)[:, None]
    caked = np.clip((rows - (line + ragged[None, :])) / (height * rng.uniform(0.05, 0.2)), 0, 1)
    opacity = rng.uniform(0.35, 0.8) * (0.7 + 0.3 * smooth_noise(rng, (h, w), int(rng.integers(4, 16))))
    droplets = (rng.random((h, w)) < rng.uniform(0.01, 0.06)).astype(np.float32)
    droplets = cv2.GaussianBlur(cv2.dilate(droplets, np.ones((2, 2), np.uint8)), (0, 0), 0.8)
    spray = droplets * np.clip((rows - y0 + height * 0.3) / (height * 1.3), 0, 1)  # denser lower down
    alpha = np.clip(caked * opacity + spray * rng.uniform(0.5, 1.0), 0, 1)
    tone = rng.uniform(*SLUSH_TONE) + (smooth_noise(rng, (h, w), 6) - 0.5) * 40
    canvas[:] = canvas * (1 - alpha) + tone * alpha


def mud_in_strokes(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """Mud that fills the strokes' counters: a grey-level closing towards the ink (a min filter a few
    millimetres wide) blended in patches, so that 6, 8, 0 and 3 and C and O lose their holes."""
    x0, y0, x1, y1 = plate_box
    plate = canvas[y0:y1, x0:x1]
    k = int(rng.integers(7, 13))  # mm: the counters of GOST digits are about 10-20 mm wide
    filled = cv2.erode(plate, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    filled = filled * rng.uniform(0.8, 1.1) + rng.uniform(0, 30)  # mud is a little lighter than ink
    patches = np.clip((smooth_noise(rng, plate.shape, int(rng.integers(12, 40))) - rng.uniform(0.2, 0.5)) * 3, 0, 1)
    alpha = patches * rng.uniform(0.5, 0.9)
    plate[:] = plate * (1 - alpha) + filled * alpha


def salt_crust(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """A whitish road-salt crust: fine grain over broad patches, lowering the contrast of ink and paper."""
    x0, y0, x1, y1 = plate_box
    region = canvas[max(0, y0 - 10):y1 + 10, max(0, x0 - 10):x1 + 10]
    grain = cv2.GaussianBlur(rng.random(region.shape).astype(np.float32), (0, 0), 0.7)
    patches = np.clip((smooth_noise(rng, region.shape, int(rng.integers(16, 60))) - rng.uniform(0.2, 0.5)) * 2, 0, 1)
    alpha = np.clip(patches * (0.4 + 0.6 * grain) * rng.uniform(0.3, 0.75), 0, 1)
    region[:] = region * (1 - alpha) + rng.uniform(*SALT_TONE) * alpha


def snow_in_corners(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """Snow lodged against the frame: bright rounded lumps at one or two corners or along the top edge."""
    x0, y0, x1, y1 = plate_box
    mask = np.zeros(canvas.shape, np.float32)
    anchors = [(x0, y0), (x1, y0), (x0, y1), (x1, y1), (int(rng.uniform(x0, x1)), y0)]
    for i in rng.choice(len(anchors), size=int(rng.integers(1, 3)), replace=False):
        cx, cy = anchors[i]
        axes = (int(rng.uniform(15, 70)), int(rng.uniform(8, 35)))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, float(rng.uniform(-20, 20)), 0, 360, 1.0, -1)
    edge = smooth_noise(rng, canvas.shape, 5)
    mask = cv2.GaussianBlur(mask, (0, 0), 2.0) * (0.7 + 0.3 * edge)
    alpha = np.clip(mask * 1.5, 0, 1)
    canvas[:] = canvas * (1 - alpha) + rng.uniform(*SNOW_TONE) * alpha


def faded(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """Grey text on a grey plate: the plate's contrast squeezed towards its mean (old paint, road film)."""
    x0, y0, x1, y1 = plate_box
    plate = canvas[y0:y1, x0:x1]
    mean = float(plate.mean())
    plate[:] = mean + (plate - mean) * rng.uniform(0.35, 0.7) + rng.uniform(-25, 10)


def glare(canvas: np.ndarray, rng: np.random.Generator, plate_box: Box) -> None:
    """A bright glare: a soft elliptical highlight that washes out part of the plate."""
    x0, y0, x1, y1 = plate_box
    h, w = canvas.shape
    cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
    sx, sy = rng.uniform(40, 160), rng.uniform(20, 60)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    spot = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2))
    alpha = spot * rng.uniform(0.4, 0.8)
    canvas[:] = canvas * (1 - alpha) + 255.0 * alpha
