"""anpr_ocr: read Russian licence plates from cropped plate images (CRNN + CTC, CPU-first), and find
and read them in whole photos (`read_plates`), and follow them through videos (`read_video`).

The package is layered; each layer imports only the layers listed before it (tests/test_layers.py
enforces it), so reading plates never imports training code:

- `core`: alphabet, plate formats, images, labelled crops, metrics, files;
- `reader` (the plate reader: CRNN, checkpoints, INT8, ONNX, decoding, `predict`) and `detector`
  (the plate detector: net, geometry, checkpoints, measures), beside each other;
- `pipeline`: `read_plates`, on top of both;
- `video`: `read_video`, tracks of plates through frames, on top of the pipeline;
- `train` (the `[train]` extra): renderer, augmentation, datasets, reader and detector training;
- `research`: evaluation, calibration, robustness, cross-validation, benchmark timings;
- `report`: tables, model cards, the README block, plots;
- `cli`: the `anpr-ocr` command, one module per subcommand.
"""

from .core.shipped import FP32_WEIGHTS, INT8_WEIGHTS, VERSION
from .pipeline.read import PhotoReading, read_plates
from .reader.predict import PlateReading, predict
from .video.stream import PlateTrack, read_video

__all__ = ["FP32_WEIGHTS", "INT8_WEIGHTS", "PhotoReading", "PlateReading", "PlateTrack", "predict", "read_plates",
           "read_video"]
__version__ = VERSION
