"""One preprocessing path, shared by training, evaluation and prediction.

Any image input (a path decoded by OpenCV, a numpy array, a PIL image) becomes a grey uint8 array
with `as_grey` (files through `read_image`, arrays through `to_grey`, a list with `as_greys`);
`preprocess` turns one grey crop into the model's fixed-size float input and `batch_tensor` a list
of them into one batch. `IMAGE_SUFFIXES` are the file names every loader and the command line take
for images, and `walk_images` the one walk over a folder for them.

Why grey and a fixed 32x128 resize: the real crops are 1.7 to 6.8 times wider than high (median
3.66, the ratio a GOST plate with crop margins has), so stretching to a 4:1 box distorts a typical
plate by under 10%, while padding to a fixed width would spend a quarter of the compute on empty
columns and tie accuracy to the crop's margins. A fixed shape also keeps batching, FX tracing and
ONNX export static. Colour carries no character identity on plates (night and IR cameras are grey
anyway), so one channel is read.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

INPUT_HEIGHT = 32
INPUT_WIDTH = 128
MAX_SIDE = 4096  # larger inputs are shrunk first, so a huge array never costs much
MAX_FILE_PIXELS = 200_000_000  # image files beyond this are refused before decoding (bomb guard)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def walk_images(folder: str | Path, recursive: bool = True) -> Iterator[Path]:
    """Image files (by `IMAGE_SUFFIXES`, any case) under `folder`, lazily, depth first with each folder's
    entries sorted by name: the order of `sorted(folder.rglob(...))` without holding the whole listing.

    Linked folders are not entered (as rglob: no loops); linked files are listed. With `recursive`
    False only `folder`'s own files. A missing folder raises FileNotFoundError when the walk starts.
    """
    with os.scandir(folder) as entries:
        ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered:
        if entry.is_dir(follow_symlinks=False):
            if recursive:
                yield from walk_images(entry.path)
        elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES and entry.is_file():
            yield Path(entry.path)


class ImageError(ValueError):
    """An input that cannot be read as a plate image; the message names the input."""


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file (PNG, JPG, BMP, TIFF, WebP; 8 or 16 bit, grey, colour or RGBA) as grey uint8.

    A file whose header claims more than MAX_FILE_PIXELS pixels is refused before it is decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path}")
    _check_pixels(path)
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageError(f"{path} is not a readable image (corrupt, truncated or another format)")
    return to_grey(image, name=str(path), bgr=True)


def _check_pixels(path: Path) -> None:
    """Refuse a decompression bomb from its header alone (PIL reads only the header here)."""
    from PIL import Image

    size = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as header:
                size = header.size
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path} is too large for a plate crop ({exc})") from exc
    except Exception:  # PIL cannot parse it: leave the verdict to OpenCV
        pass
    if size is not None and size[0] * size[1] > MAX_FILE_PIXELS:
        raise ImageError(f"{path} is {size[0]}x{size[1]} pixels, too large for a plate crop")


def as_grey(image: Any, name: str = "image") -> np.ndarray:
    """Any supported image input -> grey uint8: a path (str or os.PathLike), a numpy array as OpenCV
    gives it (BGR, BGRA or grey; any numeric dtype) or a PIL image. Errors are ValueError (ImageError),
    TypeError or OSError whose message names the input by `name`."""
    try:
        if isinstance(image, (str, os.PathLike)):
            path = Path(image)
            if path.is_dir():
                raise IsADirectoryError(f"{path} is a directory, not an image file")
            return read_image(path)
        if isinstance(image, np.ndarray):
            array, bgr = image, True
        else:
            array, bgr = _pil_array(image, name), False
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}: unsupported array dtype {array.dtype}")
        if array.size == 0:
            raise ImageError(f"{name}: empty array of shape {array.shape}")
        return to_grey(array, name=name, bgr=bgr)
    except (ImageError, TypeError, OSError) as exc:
        raise _named(exc, name) from exc
    except (ValueError, ArithmeticError, MemoryError) as exc:  # numpy/OpenCV errors on odd input
        raise ImageError(f"{name}: cannot convert to a grey image: {exc}") from exc
    except Exception as exc:  # cv2.error and friends: never let a raw library error escape
        raise ImageError(f"{name}: cannot convert to a grey image ({type(exc).__name__}: {exc})") from exc


def as_greys(images: Any) -> tuple[list[np.ndarray], bool]:
    """One image or a list or tuple of them -> (their grey uint8 arrays, whether one image was given).

    Errors name the input as `as_grey` does: its path for one image given by path, "image" for one
    array, "image 3" for the fourth of a list."""
    single = not isinstance(images, (list, tuple))
    items: Sequence[Any] = [images] if single else images
    return [as_grey(image, input_name(image, i, single)) for i, image in enumerate(items)], single


def input_name(image: Any, index: int, single: bool) -> str:
    """How an error message names an input: its path, "image", or "image <index>" in a list."""
    if single:
        return str(image) if isinstance(image, (str, os.PathLike)) else "image"
    return f"image {index}"


def read_files(paths: list[Path]) -> list[tuple[Path, np.ndarray | str]]:
    """Each path with its grey image, or with the one-line reason it cannot be read: a batch of files
    for the command line, read here or in a worker process (so it lives in an importable module)."""
    out: list[tuple[Path, np.ndarray | str]] = []
    for path in paths:
        try:
            out.append((path, as_grey(path, str(path))))
        except (ValueError, TypeError, OSError) as exc:
            out.append((path, " ".join(str(exc).split()) or type(exc).__name__))
    return out


def _named(exc: Exception, name: str) -> Exception:
    """The same kind of error with `name` in front of its message, unless it names it already."""
    message = str(exc)
    if name in message:
        return exc
    cls = type(exc) if isinstance(exc, (ImageError, TypeError, OSError)) else ImageError
    try:
        return cls(f"{name}: {message}")
    except Exception:  # an exception class with an unusual constructor
        return ImageError(f"{name}: {message}")


def _pil_array(image: Any, name: str) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None
    if Image is None or not isinstance(image, Image.Image):
        raise TypeError(f"{name}: expected a path, a numpy array or a PIL image, got {type(image).__name__}")
    if image.mode in ("P", "PA", "LA"):
        image = image.convert("RGBA")
    elif image.mode not in ("1", "L", "RGB", "RGBA", "I", "I;16", "F"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
    return np.asarray(image)


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
    step = -(-max(image.shape[:2]) // MAX_SIDE)  # ceil, in integers
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


# Every uint8 grey level as the model sees it, v / 127.5 - 1 in float32: scaling is one table look-up.
_SCALE = np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)


def _resized(grey: np.ndarray, height: int, width: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if grey.shape[1] > width else cv2.INTER_LINEAR
    return cv2.resize(grey, (width, height), interpolation=interpolation)


def preprocess(grey: np.ndarray, height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH) -> np.ndarray:
    """Grey uint8 plate crop -> float32 array (1, height, width) scaled to [-1, 1]."""
    return _SCALE.take(_resized(grey, height, width))[None]


def batch_tensor(greys: list[np.ndarray], height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH) -> torch.Tensor:
    """Grey uint8 crops -> one (B, 1, height, width) float tensor, each crop as `preprocess` makes it.

    The crops are resized into one uint8 buffer and scaled by a single look-up, so a batch of one
    costs a resize and a table read (on the latency path of every `predict` call)."""
    levels = np.empty((len(greys), 1, height, width), np.uint8)
    for i, grey in enumerate(greys):
        levels[i, 0] = _resized(grey, height, width)
    return torch.from_numpy(_SCALE.take(levels))
