"""The package's version, and where the committed models are, wherever the package runs from.

`weights/` at the top of the repository is their source: the notebook writes it, git tracks it.
A wheel ships the same files inside the package, as `anpr_ocr/weights/` (pyproject.toml maps the
package `anpr_ocr.weights` to that folder), so `predict` finds them after `pip install .` from any
directory. In a source checkout (`pip install -e .` or PYTHONPATH) there is no `anpr_ocr/weights/`,
and the repository's `weights/` beside the package is used.
"""

from __future__ import annotations

from pathlib import Path

VERSION = "0.1.0"  # the package's version: anpr_ocr.__version__, `anpr-ocr --version`, pyproject.toml's
_PACKAGE = Path(__file__).resolve().parents[1]  # anpr_ocr/, this file sits in anpr_ocr/core/
WEIGHTS_DIR = _PACKAGE / "weights" if (_PACKAGE / "weights").is_dir() else _PACKAGE.parent / "weights"
FP32_WEIGHTS = WEIGHTS_DIR / "crnn_ocr_model_best.pth"  # predict's default model
INT8_WEIGHTS = WEIGHTS_DIR / "crnn_ocr_model_int8_fx.pth"  # FX and ONNX Runtime INT8 of the same model (x86 CPUs)
DETECTOR_WEIGHTS = WEIGHTS_DIR / "plate_detector.pth"  # read_plates' plate detector
