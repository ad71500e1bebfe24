"""`predict`: plate images in, readings out. The one entry point for notebooks and services.

    from anpr_ocr import predict
    predict("crop.png").text            # one image in, one result out
    [r.text for r in predict([a, b])]   # a list in, a list out

Images may be paths (str or pathlib), numpy arrays as OpenCV reads them (BGR HxWx3 or grey HxW;
any numeric dtype, RGBA too) or PIL images. Models are loaded once per checkpoint and cached with
their calibrated temperature; inputs are batched. A crop read as anything but a sure valid plate is
read again from a trimmed and a padded copy, the three as one (`reader.views`). A bad input raises a
ValueError (ImageError), TypeError or OSError (FileNotFoundError, ...) whose message names it: the path,
or "image 3" in a batch. `predict` is safe to call from several threads at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.alphabet import ALPHABET, OUTPUT_ALPHABETS, to_cyrillic
from ..core.formats import plate_type
from ..core.images import as_greys
from ..core.onnx_runtime import DEFAULT_BACKEND, check_backend
from .decode import DECODERS, Decoded, decode
from .infer import DEFAULT_BATCH_SIZE, frame_probs
from .loader import Reader, load_reader
from .views import as_one, crop_views, sure

# "format": it reads augmentation-degraded val best at about greedy's cost (docs/experiments.md)
DEFAULT_DECODER = "format"
DEFAULT_ALPHABET = "latin"  # one of OUTPUT_ALPHABETS
DEFAULT_MIN_CONFIDENCE = 0.5  # readings less sure than this come flagged


@dataclass(frozen=True)
class PlateReading:
    """What the model read on one plate crop."""

    text: str  # Latin look-alikes ("A123BC77"), or Cyrillic when asked for
    confidence: float  # calibrated probability of the whole string under the model, 0..1 (over three views: the mean)
    char_confidences: tuple[float, ...]
    plate_type: str | None  # "private", "taxi", "trailer", "police", "motorcycle" or None
    valid: bool  # whether the text fits a GOST R 50577 format
    flagged: bool = False  # confidence below the caller's min_confidence: check this reading


def check_options(alphabet: str, decoder: str, backend: str, min_confidence: float, batch_size: int) -> None:
    """Raise ValueError naming the first of `predict`'s options that is out of range."""
    if alphabet not in OUTPUT_ALPHABETS:
        raise ValueError(f"alphabet must be one of {OUTPUT_ALPHABETS}, got {alphabet!r}")
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    check_backend(backend)
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) \
            or not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be a number in [0, 1], got {min_confidence!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def read_with(reader: Reader, greys: list[np.ndarray], decoder: str = DEFAULT_DECODER,
              batch_size: int = DEFAULT_BATCH_SIZE, reread_unsure: bool = True) -> list[Decoded]:
    """Decoded readings (Latin, calibrated confidences) of grey uint8 crops by a loaded model, at its
    temperature: what `predict` reads, for a `Reader` that may not come from a file (evaluation)."""
    return read_probs(reader, greys, frame_probs(reader.model, greys, batch_size, reader.temperature), decoder,
                      batch_size, reread_unsure)


def read_probs(reader: Reader, greys: list[np.ndarray], probs: np.ndarray, decoder: str = DEFAULT_DECODER,
               batch_size: int = DEFAULT_BATCH_SIZE, reread_unsure: bool = True) -> list[Decoded]:
    """`read_with` for crops whose frame probabilities are at hand: each decoded, and with `reread_unsure` each
    reading that is not sure (`views.sure`) read again from its crop's other views (`views.crop_views`), all
    views as one (`views.as_one`)."""
    decoded = decode(probs, decoder, ALPHABET)
    unsure = [i for i, d in enumerate(decoded) if not sure(d)] if reread_unsure else []
    if not unsure:
        return decoded
    more = frame_probs(reader.model, [v for i in unsure for v in crop_views(greys[i])], batch_size, reader.temperature)
    return as_one(probs, decoded, unsure, more, decoder)


def read_greys(greys: list[np.ndarray], weights: str | Path | None = None, decoder: str = DEFAULT_DECODER,
               batch_size: int = DEFAULT_BATCH_SIZE, backend: str = DEFAULT_BACKEND,
               reread_unsure: bool = True) -> list[Decoded]:
    """Decoded readings (Latin, calibrated confidences) of grey uint8 crops: predict's core (`read_with`)."""
    return read_with(load_reader(weights, backend), greys, decoder, batch_size, reread_unsure)


def predict(images: Any, weights: str | Path | None = None, alphabet: str = DEFAULT_ALPHABET,
            decoder: str = DEFAULT_DECODER, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
            batch_size: int = DEFAULT_BATCH_SIZE, backend: str = DEFAULT_BACKEND,
            reread_unsure: bool = True) -> PlateReading | list[PlateReading]:
    """Read plate crops. One image gives one `PlateReading`, a list or tuple gives a list.

    `weights` selects a checkpoint (default: the committed best model, or $ANPR_OCR_WEIGHTS);
    `alphabet="cyrillic"` returns the Cyrillic letters printed on the plate instead of their Latin
    look-alikes; `decoder` is "format" (default: beam search preferring a GOST R 50577 plate when
    the model finds one nearly as likely; the most accurate on val), "beam" (CTC prefix beam
    search: the most probable string) or "greedy" (best path; fastest). `confidence` is the
    probability of the whole string, with the checkpoint's calibrated temperature applied;
    readings under `min_confidence` are returned with `flagged=True`, never dropped. With `reread_unsure` a
    reading that is not a sure valid plate (`reader.views.sure`) is read again from the crop trimmed and the
    crop padded, and the three as one: slower on those crops, and more of them read (docs/experiments.md).
    `backend`: "auto" (default) runs an FP32 checkpoint in ONNX Runtime (exported on load) where the
    onnx extra is installed, else in PyTorch, and an INT8 one in ONNX Runtime's INT8 model where
    onnxruntime is installed, else in FX's (`anpr_ocr.core.cpu`); "torch" or "onnx" choose (ONNX
    Runtime runs an FP32 checkpoint exported on load, or an INT8 checkpoint's own INT8 graph;
    `pip install "anpr_ocr[onnx]"`).
    """
    check_options(alphabet, decoder, backend, min_confidence, batch_size)
    if not isinstance(reread_unsure, bool):
        raise ValueError(f"reread_unsure must be True or False, got {reread_unsure!r}")
    greys, single = as_greys(images)
    if not greys:
        return []
    readings = []
    for d in read_greys(greys, weights, decoder, batch_size, backend, reread_unsure):
        kind = plate_type(d.text)
        text = to_cyrillic(d.text) if alphabet == "cyrillic" else d.text
        confidence = min(max(d.confidence, 0.0), 1.0)
        readings.append(PlateReading(text, confidence, d.char_confidences, kind, kind is not None,
                                     confidence < min_confidence))
    return readings[0] if single else readings

