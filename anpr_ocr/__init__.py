"""anpr_ocr: read Russian licence plates from cropped plate images (CRNN + CTC, CPU-first)."""

from .predict import PlateReading, predict
from .shipped import FP32_WEIGHTS, INT8_WEIGHTS

__all__ = ["FP32_WEIGHTS", "INT8_WEIGHTS", "PlateReading", "predict"]
__version__ = "0.1.0"
