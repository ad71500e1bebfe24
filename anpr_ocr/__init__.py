"""anpr_ocr: read Russian licence plates from cropped plate images (CRNN + CTC, CPU-first), find
and read them in whole photos (`read_plates`), and follow them through videos (`read_video`)."""

from .predict import PlateReading, predict
from .read import PhotoReading, read_plates
from .shipped import FP32_WEIGHTS, INT8_WEIGHTS
from .video.stream import PlateTrack, read_video

__all__ = ["FP32_WEIGHTS", "INT8_WEIGHTS", "PhotoReading", "PlateReading", "PlateTrack", "predict", "read_plates",
           "read_video"]
__version__ = "0.1.0"
