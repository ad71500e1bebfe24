"""`read_plates`: whole photos in, plate strings out (detector, then the reader, in one call).

    from anpr_ocr import read_plates
    for r in read_plates("car.jpg"):                  # one photo: its list of readings
        r.text, r.confidence, r.box, r.corners, r.score
    read_plates([photo_a, photo_b])                   # a list of photos: a list of such lists

Inputs and errors are `predict`'s: paths, OpenCV arrays (BGR or grey) or PIL images; a bad one
raises ValueError/TypeError/OSError naming it. The detector (`anpr_ocr.detector.net`) finds each plate's
four corners on the grey photo scaled to its input size; each plate is cut from the photo at full
resolution along its corners with the margins the reader's training crops have (6% of the width, 16% of the
height: `detector.net.cut_plate`), and the first cuts of all plates of a call are read in one batch, by the
INT8 reader where INT8 runs (`reader.loader.default_photo_weights`: on the VKCV photos it reads the plates
the FP32 reader reads, a photo faster). A plate whose cut reads a valid plate with confidence at least
`SURE_CONFIDENCE` (`reader.views.sure`), or reads anything with less than `MIN_RECUT_CONFIDENCE`, reads so. The
others are cut twice more, wider and narrower (`CUTS`), and read as the string most probable over the three cuts
(`reader.views.as_one`, as `predict` reads an unsure crop's other views): a letter one cut loses at its edge, where
the detector's corners fall short, is still in the others. Three cuts read more of the winter-dressed val plates
than one does; the surely read plates, most of those on the VKCV photos, read alike either way, and reading one
cut of them spares most of a photo's reading time. Under the lower floor sit the detector's false alarms: their
other cuts cost as much as a plate's (the format decoder searches their flat frames), and on the VKCV and winter
val photos no detection read that low was reported after its three cuts (`docs/experiments.md`).

Plates narrower than `MIN_PLATE_WIDTH` photo pixels are not reported: the VKCV photos hold a few
distant plates nobody annotated, and a plate that small is seldom legible (the smallest annotated
test plate is 58 px wide; the reader's input is 128 px wide).

Readings the reader gives less than `MIN_READING_CONFIDENCE` are not reported either. A detector
tuned to miss no plate also fires on grilles, signs and lettering; the reader, which never saw such
patches, reads them with a confidence near zero, while out of fold it gave a correct reading of a
real plate that little confidence about once in a thousand crops (`docs/experiments.md`). So the
detector can run at a lower threshold and the reader's confidence removes most of its false alarms.
A reading that fits a GOST format is reported down to the lower `MIN_VALID_READING_CONFIDENCE`
(`reported`): a grille seldom reads as a valid plate, while a dirty or dark plate the reader is
unsure of often does, and a user would rather see it flagged than lose it (chosen on the VKCV and
winter val photos, `docs/experiments.md`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.alphabet import ALPHABET, LabelError, normalise_label, to_cyrillic
from ..core.formats import plate_type
from ..core.images import as_greys
from ..core.shipped import DETECTOR_WEIGHTS
from ..detector.checkpoint import load_plate_detector
from ..detector.net import (
    MARGIN_X,
    MARGIN_Y,
    SECOND_PASS_OVER,
    Detection,
    cut_plate,
    detect_batch,
    plate_size,
)
from ..reader.decode import Decoded, decode
from ..reader.infer import DEFAULT_BATCH_SIZE, frame_probs
from ..reader.loader import default_photo_weights, load_reader
from ..reader.predict import DEFAULT_ALPHABET, DEFAULT_BACKEND, DEFAULT_DECODER, DEFAULT_MIN_CONFIDENCE, check_options
from ..reader.views import SURE_CONFIDENCE, as_one, sure
from .draw import draw_label, label_height, label_size

DEFAULT_DETECTOR = DETECTOR_WEIGHTS
MIN_PLATE_WIDTH = 40  # px of the photo: narrower detections are not reported (see the module docstring)
MIN_READING_CONFIDENCE = 0.2  # readings the reader is less sure of are not reported (see the module docstring)
MIN_VALID_READING_CONFIDENCE = 0.05  # the same for readings that are valid plates (see the module docstring)
CUTS = ((MARGIN_X, MARGIN_Y), (0.12, 0.24), (0.03, 0.10))  # margins (of width, height) each plate is cut with
MIN_RECUT_CONFIDENCE = 0.05  # a first cut read less surely than this stands alone too (see the module docstring)


@dataclass(frozen=True)
class PhotoReading:
    """One plate found in a photo and what the reader read on it."""

    text: str  # Latin look-alikes ("A123BC77"), or Cyrillic when asked for
    confidence: float  # the reader's calibrated probability of the whole string, 0..1
    char_confidences: tuple[float, ...]
    plate_type: str | None  # "private", "taxi", "trailer", "police", "motorcycle" or None
    valid: bool  # whether the text fits a GOST R 50577 format
    flagged: bool  # confidence below the caller's min_confidence: check this reading
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the input's pixels
    corners: tuple[tuple[float, float], ...]  # four (x, y): top-left first, clockwise
    score: float  # the detector's confidence that a plate is there, 0..1


def default_detector() -> Path:
    """The committed detector, or the checkpoint named by the ANPR_DETECTOR_WEIGHTS environment variable."""
    return Path(os.environ.get("ANPR_DETECTOR_WEIGHTS", DEFAULT_DETECTOR))


def read_plates(images: Any, weights: str | Path | None = None, detector: str | Path | None = None,
                alphabet: str = DEFAULT_ALPHABET, decoder: str = DEFAULT_DECODER,
                min_confidence: float = DEFAULT_MIN_CONFIDENCE, threshold: float | None = None,
                min_width: float = MIN_PLATE_WIDTH, min_reading_confidence: float = MIN_READING_CONFIDENCE,
                min_valid_reading_confidence: float = MIN_VALID_READING_CONFIDENCE,
                batch_size: int = DEFAULT_BATCH_SIZE,
                backend: str = DEFAULT_BACKEND, cuts: Sequence[tuple[float, float]] = CUTS,
                sure_confidence: float = SURE_CONFIDENCE, min_recut_confidence: float = MIN_RECUT_CONFIDENCE,
                second_pass_over: int | None = SECOND_PASS_OVER) -> list[PhotoReading] | list[list[PhotoReading]]:
    """Find and read the plates in photos. One image gives its list of readings (empty when it holds
    no plate), a list or tuple of images gives a list of such lists, best detection first.

    `alphabet`, `decoder`, `min_confidence`, `batch_size` and `backend` are `predict`'s; `weights` too, but its
    default is the INT8 model where INT8 runs (`reader.loader.default_photo_weights`); `backend` picks the
    detector's runtime too (`detector.checkpoint.detector_backend`: "auto" runs it in ONNX Runtime, the INT8
    graph its checkpoint carries, where the onnx extra is installed, else in PyTorch; "torch" and "onnx" choose);
    `detector` selects the detector checkpoint (default: the committed one, or
    $ANPR_DETECTOR_WEIGHTS); `threshold` is the detector score a plate must reach (default: the one
    chosen on val and stored with the detector), `min_width` the smallest plate width, in the
    photo's pixels, that is reported, and `min_reading_confidence` the reader's confidence a reading
    needs to be reported, `min_valid_reading_confidence` the same for a reading that is a valid plate
    (both 0 report every detection; readings under `min_confidence` come flagged).
    `cuts` are the margins (of the plate's width, height) each plate is cut with, its cuts read as one;
    `cuts=CUTS[:1]` reads one cut a plate, a little faster. A plate whose first cut reads a valid plate with
    at least `sure_confidence` is read from that cut alone, and so is one whose first cut reads with less than
    `min_recut_confidence`; `sure_confidence` above 1 and `min_recut_confidence` 0 read every plate's cuts.
    A photo whose longer side is over `second_pass_over` px is searched for plates twice, the second time at
    up to twice the detector's input size, for the small plates of large photos (`detector.net.detect_batch`;
    None: once).
    """
    check_options(alphabet, decoder, backend, min_confidence, batch_size)
    for name, value in (("threshold", 0.0 if threshold is None else threshold), ("min_width", min_width),
                        ("min_reading_confidence", min_reading_confidence),
                        ("min_valid_reading_confidence", min_valid_reading_confidence),
                        ("sure_confidence", sure_confidence), ("min_recut_confidence", min_recut_confidence)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if not cuts or not all(len(c) == 2 and all(isinstance(m, (int, float)) and not isinstance(m, bool)
                                                and 0 <= m < 1 for m in c) for c in cuts):
        raise ValueError(f"cuts must be (margin_x, margin_y) pairs of numbers in [0, 1), got {cuts!r}")
    if second_pass_over is not None and (isinstance(second_pass_over, bool) or not isinstance(second_pass_over, int)
                                         or second_pass_over < 0):
        raise ValueError(f"second_pass_over must be a non-negative integer or None, got {second_pass_over!r}")
    greys, single = as_greys(images)
    model, stored = load_plate_detector(default_detector() if detector is None else detector, backend)
    threshold = stored if threshold is None else threshold
    found = found_plates(model, greys, threshold, min_width, second_pass_over)
    readings = read_found(greys, found, weights, decoder, batch_size, backend, cuts, alphabet, min_confidence,
                          sure_confidence, min_recut_confidence)
    out = [[r for r in rs if reported(r, min_reading_confidence, min_valid_reading_confidence)] for rs in readings]
    return out[0] if single else out


def found_plates(model: Any, greys: Sequence[np.ndarray], threshold: float, min_width: float = MIN_PLATE_WIDTH,
                 second_pass_over: int | None = SECOND_PASS_OVER) -> list[list[Detection]]:
    """Each photo's detections at `threshold` or above that are at least `min_width` photo pixels wide:
    what `read_plates` reads. `model`: a loaded detector (`detector.checkpoint.load_plate_detector`)."""
    return [[d for d in dets if plate_size(d.corners)[0] >= min_width]
            for dets in detect_batch(model, greys, threshold, second_pass_over)]


def reported(reading: PhotoReading, min_reading_confidence: float = MIN_READING_CONFIDENCE,
             min_valid_reading_confidence: float = MIN_VALID_READING_CONFIDENCE) -> bool:
    """Whether a reading passes the confidence floors: `min_valid_reading_confidence` for a valid plate,
    `min_reading_confidence` for anything else."""
    return reading.confidence >= (min_valid_reading_confidence if reading.valid else min_reading_confidence)


def read_found(greys: Sequence[np.ndarray], found: Sequence[Sequence[Detection]], weights: str | Path | None = None,
               decoder: str = DEFAULT_DECODER, batch_size: int = DEFAULT_BATCH_SIZE, backend: str = DEFAULT_BACKEND,
               cuts: Sequence[tuple[float, float]] = CUTS, alphabet: str = DEFAULT_ALPHABET,
               min_confidence: float = DEFAULT_MIN_CONFIDENCE, sure_confidence: float = SURE_CONFIDENCE,
               min_recut_confidence: float = MIN_RECUT_CONFIDENCE) -> list[list[PhotoReading]]:
    """Every detection of every photo read by `weights` (default: `reader.loader.default_photo_weights()`), no
    floor applied: each plate cut from its photo with the first of `cuts`' margins (of its width, height); a
    plate whose first cut reads a valid plate with at least `sure_confidence`, or anything with less than
    `min_recut_confidence`, reads so (`recut`); the others are cut with the other margins too and their cuts, the
    first one's frames and reading already had, read as one (`reader.views.as_one`). The reader is loaded first,
    so a missing or broken checkpoint is named (FileNotFoundError, CheckpointError) whether or not a plate was
    found."""
    reader = load_reader(default_photo_weights() if weights is None else weights, backend)
    plates = [(grey, d) for grey, dets in zip(greys, found) for d in dets]
    if not plates:
        return [[] for _ in found]
    probs = frame_probs(reader.model, [cut_plate(grey, d.corners, *cuts[0]) for grey, d in plates], batch_size,
                        reader.temperature)
    decoded = decode(probs, decoder, ALPHABET)
    unsure = [i for i, r in enumerate(decoded) if len(cuts) > 1 and recut(r, sure_confidence, min_recut_confidence)]
    if unsure:  # the first cut is read and decoded already: only the other cuts go through the model and decoder
        more = frame_probs(reader.model, [cut_plate(plates[i][0], plates[i][1].corners, mx, my)
                                          for i in unsure for mx, my in cuts[1:]], batch_size, reader.temperature)
        decoded = as_one(probs, decoded, unsure, more, decoder)
    readings = iter(decoded)
    return [[photo_reading(next(readings), d, alphabet, min_confidence) for d in dets] for dets in found]


def recut(decoded: Decoded, sure_confidence: float = SURE_CONFIDENCE,
          min_recut_confidence: float = MIN_RECUT_CONFIDENCE) -> bool:
    """Whether a plate's other cuts are read too, from its first cut's reading: it is neither sure (`sure`) nor
    read with less than `min_recut_confidence`."""
    return not sure(decoded, sure_confidence) and decoded.confidence >= min_recut_confidence


def photo_reading(decoded: Decoded, detection: Detection, alphabet: str = DEFAULT_ALPHABET,
                  min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> PhotoReading:
    """What the reader decoded on a detected plate's cut, with where the detector found it."""
    confidence = min(max(decoded.confidence, 0.0), 1.0)
    kind = plate_type(decoded.text)
    return PhotoReading(to_cyrillic(decoded.text) if alphabet == "cyrillic" else decoded.text, confidence,
                        decoded.char_confidences, kind, kind is not None, confidence < min_confidence,
                        tuple(float(v) for v in detection.box),
                        tuple((float(x), float(y)) for x, y in detection.corners), float(detection.score))


def draw_readings(image: np.ndarray, readings: Sequence[PhotoReading]) -> np.ndarray:
    """A BGR copy of `image` with each plate's corners outlined and a label above it (below it at the top
    edge): "A636OA199  conf 0.98", its zeros slashed, on green for a valid plate read with confidence,
    on orange for one flagged or not a valid plate (`pipeline.draw`)."""
    import cv2

    canvas = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height = label_height(canvas.shape)
    for r in readings:
        colour = (0, 200, 0) if r.valid and not r.flagged else (0, 165, 255)
        quad = np.round(np.array(r.corners)).astype(np.int32)
        line = max(2, round(height / 8))
        cv2.polylines(canvas, [quad], True, colour, line, cv2.LINE_AA)
        text = f"{_latin(r.text)}  conf {r.confidence:.2f}"
        w, h = label_size(text, height)
        gap = line // 2 + 2  # clear of the outline
        above, below = int(r.box[1]) - gap - h, int(np.ceil(r.box[3])) + gap
        x = min(max(int(r.box[0]), 0), max(canvas.shape[1] - w, 0))
        y = above if above >= 0 else min(below, canvas.shape[0] - h)
        draw_label(canvas, text, (x, max(y, 0)), height, colour)
    return canvas


def _latin(text: str) -> str:
    """A reading in Latin look-alikes (the drawing's font has no Cyrillic); "?" for an empty one."""
    try:
        return normalise_label(text)
    except LabelError:
        return text or "?"
