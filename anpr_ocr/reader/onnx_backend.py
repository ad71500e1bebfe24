"""ONNX export of the FP32 CRNN, INT8 quantization with ONNX Runtime, and a reader that runs it.

    from anpr_ocr.reader.onnx_backend import export_onnx, quantize_onnx, OnnxReader
    export_onnx(model, "crnn.onnx")                       # returns the max |logit| difference vs torch
    quantize_onnx("crnn.onnx", "crnn_int8.onnx", [s.image for s in val_samples])
    reader = OnnxReader("crnn_int8.onnx", threads=2)
    logits = reader(batch_tensor(greys))                  # (B, T, C) torch tensor, like CRNN

The graph has one input "image" of shape (batch, 1, height, width), the model's (32x128 by default),
with a dynamic batch axis, and one output "logits" (batch, 32, classes). onnx, onnxruntime and onnxscript are optional:
`pip install "anpr_ocr[onnx]"`; reading plates never needs them (the FX INT8 model runs without).

ONNX Runtime INT8 (`quantize_onnx`) is static (calibrated) QDQ with per-channel INT8 weights and
UINT8 activations calibrated on train crops: the convs run as INT8 and the CTC head stays
float (`FLOAT_NODES`), as in the FX model. ONNX Runtime has no static INT8 LSTM, so `quantize_lstm`
then gives the LSTM INT8 weights with activations quantized at run time (DynamicQuantizeLSTM; `LSTM`):
a faster call without VNNI, and the same readings as the float LSTM on uncalibrated crops
(docs/experiments.md, "ONNX Runtime INT8 with the LSTM in INT8").
Weights use 7 of their 8 bits (`reduce_range`): without VNNI, ONNX Runtime multiplies UINT8 by
INT8 with VPMADDUBSW, whose 16-bit sums of pairs saturate; on an AVX2-only CPU the full-range model
read many uncalibrated crops otherwise than FP32 and the 7-bit one nearly none (docs/experiments.md).
The same file then reads alike on CPUs with and without VNNI.
An activation's range is the 99.999th percentile of its absolute values on the calibration crops
(`CALIBRATION_METHOD`), not their extremes (MinMax), so that a rare large value does not coarsen the steps
for every crop: out of fold the percentile graph reads closer to FP32 than the MinMax one (docs/experiments.md).

`onnx_int8_bytes` and `OnnxReader(bytes)` keep a graph in memory: the INT8 checkpoint carries its ONNX
Runtime INT8 graph (`anpr_ocr.reader.quantize.save_quantized`), so no file is written at load time.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ..core.images import batch_tensor
from ..core.onnx_runtime import cpu_session, quantize_qdq, require_onnx
from .model import CRNN

INPUT_NAME = "image"
OUTPUT_NAME = "logits"
FLOAT_NODES = ("/head/MatMul", "/head/Add")  # the CTC head, as torch.onnx names it: kept float (module docstring)
LSTM = "dynamic"  # how the LSTM runs in the INT8 graph (`quantize_onnx`)
CALIBRATION_METHOD = "Percentile"  # onnxruntime.quantization.CalibrationMethod's name (module docstring)
PERCENTILE = 99.999  # of each tensor's absolute values, for the Percentile method


def export_onnx(model: CRNN, path: str | Path, check: bool = True, opset: int = 17) -> float | None:
    """Export an FP32 CRNN to ONNX (input 1x1x32x128 with a dynamic batch axis).

    With `check`, runs the file in ONNX Runtime on a batch of 3 random inputs and returns (and
    prints) the maximum absolute logit difference against torch; raises if it exceeds 1e-3.
    """
    require_onnx("onnx")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    config = model.config
    example = torch.zeros(1, 1, config.height, config.width)
    with warnings.catch_warnings():  # the legacy TorchScript exporter warns about LSTM batch sizes
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          opset_version=opset, dynamo=False)
    if not check:
        return None
    x = torch.rand(3, 1, config.height, config.width) * 2 - 1
    with torch.inference_mode():
        expected = model(x)
    diff = float((OnnxReader(path, threads=1)(x) - expected).abs().max())
    print(f"ONNX export {path}: max |logit difference| vs torch = {diff:.2e}")
    if diff > 1e-3:
        raise RuntimeError(f"ONNX export {path} differs from torch by {diff:.3g} (max abs logit)")
    return diff


def quantize_onnx(fp32_onnx: str | Path, int8_onnx: str | Path, calibration: list[np.ndarray],
                  reduce_range: bool = True, float_nodes: tuple[str, ...] = FLOAT_NODES, lstm: str = LSTM,
                  method: str = CALIBRATION_METHOD) -> Path:
    """Static INT8 quantization (`core.onnx_runtime.quantize_qdq`) calibrated on grey crops, one a run (train
    crops, never the split it is scored on); `reduce_range`, `float_nodes` and `method` ("Percentile", or
    "MinMax": each activation's extremes) as the module docstring says (`reduce_range=False, float_nodes=()`: the
    first recipe, for comparison). `lstm`: "float" keeps ONNX Runtime's float LSTM, "dynamic" gives it INT8
    weights and activations quantized at run time (DynamicQuantizeLSTM, with the same 7-bit weights)."""
    if lstm not in ("float", "dynamic"):
        raise ValueError(f"lstm must be 'float' or 'dynamic', got {lstm!r}")
    if method not in ("Percentile", "MinMax"):
        raise ValueError(f"method must be 'Percentile' or 'MinMax', got {method!r}")
    require_onnx("onnxruntime.quantization")
    if not calibration:
        raise ValueError("quantize_onnx needs at least one calibration image")
    size = OnnxReader(fp32_onnx).input_size
    batches = [batch_tensor([grey], *size).numpy() for grey in calibration]
    if lstm == "float":
        return quantize_qdq(fp32_onnx, int8_onnx, INPUT_NAME, batches, method, PERCENTILE, reduce_range, float_nodes)
    with tempfile.TemporaryDirectory() as tmp:
        static = quantize_qdq(fp32_onnx, Path(tmp) / "static.onnx", INPUT_NAME, batches, method, PERCENTILE,
                              reduce_range, float_nodes)
        Path(int8_onnx).parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return quantize_lstm(static, int8_onnx, reduce_range)


def quantize_lstm(int8_onnx: str | Path, out: str | Path, reduce_range: bool = True) -> Path:
    """The same graph with its float LSTM given INT8 weights and activations quantized at run time
    (ONNX Runtime's DynamicQuantizeLSTM); `reduce_range` as in `quantize_onnx`."""
    quantization = require_onnx("onnxruntime.quantization")
    logger = logging.getLogger()  # quantize_dynamic warns on the root logger that the graph is quantized already
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        quantization.quantize_dynamic(str(int8_onnx), str(out), op_types_to_quantize=["LSTM"],
                                      weight_type=quantization.QuantType.QInt8, reduce_range=reduce_range)
    finally:
        logger.setLevel(level)
    return Path(out)


def onnx_int8_recipe() -> dict:
    """How `quantize_onnx` makes the INT8 graph by default, for the checkpoint and its card."""
    return {"tool": "onnxruntime.quantization.quantize_static", "onnxruntime": require_onnx("onnxruntime").__version__,
            "format": "QDQ", "weights": "int8 per channel, 7-bit range (reduce_range)",
            "activations": "uint8 per tensor", "calibration_method": CALIBRATION_METHOD,
            "calibration_percentile": PERCENTILE, "float_nodes": list(FLOAT_NODES),
            "lstm": {"float": "float (ONNX Runtime LSTM op)",
                     "dynamic": "int8 weights (7-bit), activations quantized at run time (DynamicQuantizeLSTM)"}[LSTM]}


def onnx_int8_bytes(model: CRNN, calibration: list[np.ndarray]) -> bytes:
    """An FP32 CRNN exported and quantized by `quantize_onnx` (the default recipe), as the bytes of
    the ONNX file: what `anpr_ocr.reader.quantize.save_quantized` stores beside the FX INT8 weights."""
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_onnx(model, fp32, check=False)
        return quantize_onnx(fp32, Path(tmp) / "int8.onnx", calibration).read_bytes()


class OnnxReader:
    """An ONNX Runtime session that is called like the torch model: (B, 1, H, W) -> (B, T, C) logits.
    `model`: an ONNX file, or its bytes."""

    def __init__(self, model: str | Path | bytes, threads: int = 1):
        require_onnx("onnxruntime")  # a missing extra is named before a missing file
        self.path = None if isinstance(model, bytes) else Path(model)
        if self.path is not None and not self.path.is_file():
            raise FileNotFoundError(f"no ONNX model at {self.path}")
        self.session = cpu_session(model if self.path is None else self.path, threads)
        self.threads = threads

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run([OUTPUT_NAME], {INPUT_NAME: array})[0])

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the graph's input."""
        height, width = self.session.get_inputs()[0].shape[2:]
        return int(height), int(width)

    def eval(self) -> OnnxReader:
        """Itself, so it can stand in for a torch module."""
        return self

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        """An empty iterator in place of a torch module's parameters: `frame_logits` then feeds it CPU tensors."""
        return iter(())
