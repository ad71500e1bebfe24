"""`predict`: plate images in, readings out. The one entry point for notebooks and services.

    from anpr_ocr import predict
    predict("crop.png").text            # one image in, one result out
    [r.text for r in predict([a, b])]   # a list in, a list out

Images may be paths (str or pathlib), numpy arrays as OpenCV reads them (BGR HxWx3 or grey HxW)
or PIL images. Models are loaded once per checkpoint and cached; inputs are batched.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .alphabet import ALPHABET, to_cyrillic
from .checkpoint import load_model, read_checkpoint
from .decode import greedy_decode, softmax
from .evaluate import batch_tensor
from .formats import plate_type
from .preprocess import ImageError, read_image, to_grey

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "crnn_ocr_model_best.pth"


@dataclass(frozen=True)
class PlateReading:
    """What the model read on one plate crop."""

    text: str  # Latin look-alikes ("A123BC77"), or Cyrillic when asked for
    confidence: float  # probability of the whole string under the model, 0..1
    char_confidences: tuple[float, ...]
    plate_type: str | None  # "private", "taxi", "trailer", "police", "motorcycle" or None
    valid: bool  # whether the text fits a GOST R 50577 format


_cache: dict[tuple[str, float], torch.nn.Module] = {}
_cache_lock = threading.Lock()


def default_weights() -> Path:
    """The committed model, or the checkpoint named by the ANPR_OCR_WEIGHTS environment variable."""
    return Path(os.environ.get("ANPR_OCR_WEIGHTS", DEFAULT_WEIGHTS))


def load_reader(weights: str | Path | None = None) -> torch.nn.Module:
    """The model behind a checkpoint (FP32 or INT8), loaded once and cached by path and mtime."""
    path = Path(weights) if weights is not None else default_weights()
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    key = (str(path.resolve()), path.stat().st_mtime)
    with _cache_lock:
        if key not in _cache:
            kind = read_checkpoint(path).get("kind", "fp32")
            if kind == "fp32":
                _cache[key] = load_model(path)
            else:
                from .quantize import load_quantized

                _cache[key] = load_quantized(path)
        return _cache[key]


def as_grey(image: Any, name: str) -> np.ndarray:
    """Any supported image input -> grey uint8; errors name the input."""
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, np.ndarray):
        if image.size == 0:
            raise ImageError(f"{name}: empty array of shape {image.shape}")
        return to_grey(image, name=name, bgr=True)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        array = np.asarray(image.convert("RGBA") if image.mode in ("P", "LA") else image)
        return to_grey(array, name=name, bgr=False)
    raise TypeError(f"{name}: expected a path, a numpy array or a PIL image, got {type(image).__name__}")


def predict(images: Any, weights: str | Path | None = None, alphabet: str = "latin",
            batch_size: int = 64) -> PlateReading | list[PlateReading]:
    """Read plate crops. One image gives one `PlateReading`, a list or tuple gives a list.

    `weights` selects a checkpoint (default: the committed best model); `alphabet="cyrillic"`
    returns the Cyrillic letters printed on the plate instead of their Latin look-alikes.
    """
    if alphabet not in ("latin", "cyrillic"):
        raise ValueError(f"alphabet must be 'latin' or 'cyrillic', got {alphabet!r}")
    single = not isinstance(images, (list, tuple))
    items: Sequence[Any] = [images] if single else images
    greys = [as_grey(img, "image" if single else f"image {i}") for i, img in enumerate(items)]
    model = load_reader(weights)
    readings: list[PlateReading] = []
    with torch.inference_mode():
        for start in range(0, len(greys), batch_size):
            logits = model(batch_tensor(greys[start:start + batch_size]))
            for d in greedy_decode(softmax(logits.float().numpy()), ALPHABET):
                kind = plate_type(d.text)
                text = to_cyrillic(d.text) if alphabet == "cyrillic" else d.text
                readings.append(PlateReading(text, d.confidence, d.char_confidences, kind, kind is not None))
    return readings[0] if single else readings
