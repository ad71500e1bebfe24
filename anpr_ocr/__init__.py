"""anpr_ocr: read Russian licence plates from cropped plate images (CRNN + CTC, CPU-first)."""

from .predict import PlateReading, predict

__all__ = ["PlateReading", "predict"]
__version__ = "0.1.0"
