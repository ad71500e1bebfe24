"""anpr_ocr: read Russian licence plates from cropped plate images (CRNN + CTC, CPU-first), and find
and read them in whole photos (`read_plates`)."""

from .predict import PlateReading, predict
from .read import PhotoReading, read_plates
from .shipped import FP32_WEIGHTS, INT8_WEIGHTS

__all__ = ["FP32_WEIGHTS", "INT8_WEIGHTS", "PhotoReading", "PlateReading", "predict", "read_plates"]
__version__ = "0.1.0"
