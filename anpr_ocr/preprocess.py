"""One preprocessing path, shared by training, evaluation and prediction.

Any image (path bytes decoded by OpenCV, a numpy array, a PIL image) becomes a grey uint8 array
with `to_grey`; `preprocess` turns that into the model's fixed-size float input.

Why grey and a fixed 32x128 resize: the real crops are 1.7 to 6.8 times wider than high (median
3.66, the ratio a GOST plate with crop margins has), so stretching to a 4:1 box distorts a typical
plate by under 10%, while padding to a fixed width would spend a quarter of the compute on empty
columns and tie accuracy to the crop's margins. A fixed shape also keeps batching, FX tracing and
ONNX export static. Colour carries no character identity on plates (night and IR cameras are grey
anyway), so one channel is read.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

INPUT_HEIGHT = 32
INPUT_WIDTH = 128
MAX_SIDE = 4096  # larger inputs are shrunk first, so a huge array never costs much


class ImageError(ValueError):
    """An input that cannot be read as a plate image; the message names the input."""


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file (PNG, JPG, BMP, 8 or 16 bit, grey, colour or RGBA) as grey uint8."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageError(f"{path} is not a readable image (corrupt, truncated or another format)")
    return to_grey(image, name=str(path), bgr=True)


def to_grey(image: np.ndarray, name: str = "image", bgr: bool = True) -> np.ndarray:
    """Convert an HxW, HxWx1, HxWx3 or HxWx4 array of any numeric dtype to grey uint8.

    `bgr` says the channel order of 3- and 4-channel input (OpenCV's BGR, or RGB as PIL gives).
    Floats are taken as 0..1 when their maximum is at most 1, else as 0..255.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageError(f"{name}: expected HxW, HxWx3 or HxWx4, got shape {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ImageError(f"{name}: image of shape {image.shape} is too small to hold a plate")
    image = _shrink(image)
    image = _as_uint8(image, name)
    if image.ndim == 3:
        code = {(3, True): cv2.COLOR_BGR2GRAY, (4, True): cv2.COLOR_BGRA2GRAY,
                (3, False): cv2.COLOR_RGB2GRAY, (4, False): cv2.COLOR_RGBA2GRAY}
        image = cv2.cvtColor(np.ascontiguousarray(image), code[(image.shape[2], bgr)])
    return np.ascontiguousarray(image)


def _shrink(image: np.ndarray) -> np.ndarray:
    """Subsample arrays larger than MAX_SIDE so conversion and resizing stay cheap."""
    step = int(np.ceil(max(image.shape[:2]) / MAX_SIDE))
    return image[::step, ::step] if step > 1 else image


def _as_uint8(image: np.ndarray, name: str) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    with np.errstate(all="ignore"):  # odd values (huge floats, wide ints) are clipped, not warned about
        if np.issubdtype(image.dtype, np.floating):
            if not np.isfinite(image).all():
                raise ImageError(f"{name}: float image holds NaN or infinite values")
            scale = 255.0 if image.max(initial=0.0) <= 1.0 else 1.0
            return np.clip(image * scale, 0, 255).astype(np.uint8)
        if np.issubdtype(image.dtype, np.integer):
            if image.dtype == np.uint16:
                return (image // 257).astype(np.uint8)
            top = int(image.max(initial=0))
            if top > 255:  # another wide integer type: stretch its range onto 0..255
                return (np.clip(image, 0, None) * (255.0 / top)).astype(np.uint8)
            return np.clip(image, 0, 255).astype(np.uint8)
    raise TypeError(f"{name}: unsupported array dtype {image.dtype}")


def preprocess(grey: np.ndarray, height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH) -> np.ndarray:
    """Grey uint8 plate crop -> float32 array (1, height, width) scaled to [-1, 1]."""
    interpolation = cv2.INTER_AREA if grey.shape[1] > width else cv2.INTER_LINEAR
    resized = cv2.resize(grey, (width, height), interpolation=interpolation)
    return (resized.astype(np.float32) / 127.5 - 1.0)[None]
