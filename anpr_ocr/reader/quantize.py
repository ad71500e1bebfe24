"""INT8 post-training static quantization of the CRNN with torch FX, for the x86 backend.

    from anpr_ocr.reader.quantize import quantize_fx, save_quantized, load_quantized
    qmodel = quantize_fx(model, [s.image for s in train_samples[:256]])
    save_quantized(qmodel, model.config, "int8.pth", calibration="256 train crops")
    qmodel = load_quantized("int8.pth")          # or predict(img, weights="int8.pth")

What is quantized: every conv block (conv + batch norm + ReLU fused into one INT8 conv, per-channel
weights) and the max pools run in INT8, activations quantized per tensor by the x86 backend's
histogram observer. The committed INT8 model is calibrated on 256 train crops, as the notebook does;
calibration never sees the test split.

What stays float, and why:
- the bidirectional LSTM, after one dequantize: dynamic INT8 saves almost nothing on it alone and is
  slower inside the FX graph, the static quantizable LSTM runs cell by cell in Python and FX cannot
  trace it, and dynamic INT8 weights are packed objects that weights-only loading refuses
  (`lstm="dynamic"` stays available for comparison, but such a model cannot be saved). Its fixed
  per-call cost is why INT8 gains less over FP32 at batch 1 than at batch 64;
- the linear CTC head and the dropout around it (`DEFAULT_FLOAT_MODULES`): kept float, they bring the
  logits markedly closer to FP32's at no measurable speed cost;
- the flatten and permute between the conv map and the LSTM (`SHAPE_OPS_IN_FLOAT`).

Bits (`qconfig`): activations in all 8 bits, weights in 7 (per channel, magnitudes up to 64).
Without VNNI the x86 kernels multiply UINT8 activations by INT8 weights in pairs summed in 16 bits,
which saturate unless one side gives up a bit (255 * 64 * 2 fits, 255 * 128 * 2 does not). PyTorch's
x86 default gives it up on the activations (`reduce_range`); here the weights give it up, as in the
ONNX Runtime graph, and the activations keep their finer steps (docs/experiments.md). Either way the
file reads plates the same on CPUs with and without VNNI. x86 rather than onednn: onednn's qconfig keeps
all 8 bits on both sides, which PyTorch warns may be inaccurate without VNNI.

`load_quantized` rebuilds the graph from the stored config and returns it traced and frozen with
TorchScript, which takes Python out of the call. The measurements behind each choice are in
docs/experiments.md.

The checkpoint also carries a second INT8 model of the same FP32 weights, calibrated on the same
crops: the ONNX Runtime INT8 graph (`anpr_ocr.reader.onnx_backend.quantize_onnx`), as the bytes of its ONNX
file (`onnx_int8_graph`). `quantize_fx` makes it when onnxruntime is installed. Why two: on CPUs
without VNNI (AVX2-only ones) the float LSTM of the FX model limits its gain over FP32, and ONNX
Runtime's INT8 graph, its LSTM in INT8 too, is the faster one there and on the VNNI CPUs measured;
`predict(backend="auto")` runs it where onnxruntime imports, FX's model elsewhere (`anpr_ocr.core.cpu`).
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.files import CheckpointError, save_atomic
from ..core.images import batch_tensor
from .checkpoint import read_checkpoint, weights_dict
from .model import CRNN, CRNNConfig

KIND = "int8_fx"
BACKEND = "x86"
LSTM_MODES = ("float", "dynamic")
DEFAULT_FLOAT_MODULES = ("head", "dropout")  # see the module docstring
# The conv map is flattened and permuted into LSTM steps in float, after the one dequantize. Left to
# the defaults, FX dequantizes, flattens, re-quantizes with a scale of its own, permutes and
# dequantizes again: two more ops a call and one more rounding.
SHAPE_OPS_IN_FLOAT = ("flatten", "permute")


def qconfig() -> torch.ao.quantization.QConfig:
    """The static qconfig of the INT8 ops: x86's histogram observer for activations in all 8 bits, and
    per-channel symmetric weights in 7 (module docstring): observed over [-64, 63], the extremes round to
    magnitude 64."""
    with fx_deprecations_silenced():
        from torch.ao.quantization import HistogramObserver, PerChannelMinMaxObserver, QConfig

    return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                   weight=PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                                             quant_min=-64, quant_max=63))


QCONFIG = {"activations": "uint8 per tensor, 8 bits (histogram observer)",  # what `qconfig` makes, for the card
           "weights": "int8 per channel, magnitudes up to 64 (observer range [-64, 63])"}


def qconfig_mapping(lstm: str = "float", float_modules: Sequence[str] = (),
                    float_ops: Sequence[str] = SHAPE_OPS_IN_FLOAT) -> torch.ao.quantization.QConfigMapping:
    """The x86 static qconfig mapping with `qconfig` for its INT8 ops, the LSTM float or dynamic, and some
    modules and tensor methods (`float_ops`) float."""
    with fx_deprecations_silenced():
        from torch.ao.quantization import default_dynamic_qconfig, get_default_qconfig_mapping

    if lstm not in LSTM_MODES:
        raise ValueError(f"lstm must be one of {LSTM_MODES}, got {lstm!r}")
    mapping = get_default_qconfig_mapping(BACKEND).set_global(qconfig())
    mapping.set_object_type(nn.LSTM, None if lstm == "float" else default_dynamic_qconfig)
    for op in float_ops:
        mapping.set_object_type(op, None)
    for name in float_modules:
        mapping.set_module_name(name, None)
    return mapping


@contextlib.contextmanager
def fx_deprecations_silenced() -> Iterator[None]:
    """FX graph-mode quantization is deprecated in torch 2.13 and says so on every call: silence
    exactly those notices, here and nowhere else."""
    with warnings.catch_warnings():
        for message in ("torch.ao.quantization is deprecated", "Please use quant_min and quant_max",
                        "torch.quantize_per_tensor, torch.quantize_per_channel", "TypedStorage is deprecated",
                        # rebuilt graphs get their qparams from the state dict, not from observers
                        "must run observer before calling calculate_qparams"):
            warnings.filterwarnings("ignore", message=message)
        yield


def _example_input(config: CRNNConfig) -> tuple[torch.Tensor]:
    return (torch.zeros(1, 1, config.height, config.width),)


def _prepare(model: CRNN, mapping) -> torch.nn.Module:
    from torch.ao.quantization.quantize_fx import prepare_fx

    with fx_deprecations_silenced():
        return prepare_fx(model, mapping, _example_input(model.config))


def _convert(prepared: torch.nn.Module) -> torch.nn.Module:
    from torch.ao.quantization.quantize_fx import convert_fx

    with fx_deprecations_silenced():
        return convert_fx(prepared)


def quantize_fx(model: CRNN, calibration: list[np.ndarray], batch_size: int = 64, lstm: str = "float",
                float_modules: Sequence[str] = DEFAULT_FLOAT_MODULES, onnx: bool = True) -> torch.nn.Module:
    """Post-training static INT8 quantization of an FP32 CRNN, calibrated on grey uint8 crops.

    The model is copied, not changed. `calibration` should be train or val crops (a hundred or so
    is plenty), never the test split. `float_modules` names submodules to keep FP32 (e.g. "head").
    With `onnx` and onnxruntime installed, the ONNX Runtime INT8 graph of the same model and crops
    is made too and kept on the result for `save_quantized` (without onnxruntime, none is made).
    """
    if not calibration:
        raise ValueError("quantize_fx needs at least one calibration image")
    torch.backends.quantized.engine = BACKEND
    float_modules = list(float_modules)
    prepared = _prepare(copy.deepcopy(model).cpu().eval(), qconfig_mapping(lstm, float_modules))
    with torch.inference_mode():
        for start in range(0, len(calibration), batch_size):
            prepared(batch_tensor(calibration[start:start + batch_size], *model.input_size))
    qmodel = _convert(prepared).eval()
    qmodel.input_size = model.input_size
    qmodel.anpr_quantization = {"backend": BACKEND, **QCONFIG, "lstm": lstm, "float_modules": float_modules,
                                "float_ops": list(SHAPE_OPS_IN_FLOAT),
                                "calibration_images": len(calibration)}
    if onnx:
        try:
            from .onnx_backend import onnx_int8_bytes, onnx_int8_recipe
        except ImportError:
            return qmodel
        try:
            qmodel.anpr_onnx_int8 = onnx_int8_bytes(model, calibration)
        except ImportError:  # onnx or onnxruntime missing: the FX model alone
            return qmodel
        qmodel.anpr_quantization["onnx_int8"] = {**onnx_int8_recipe(), "calibration_images": len(calibration)}
    return qmodel


def save_quantized(qmodel: torch.nn.Module, config: CRNNConfig, path: str | Path, **meta: Any) -> None:
    """Save a `quantize_fx` model like an FP32 checkpoint, with kind "int8_fx" (weights and qparams only)."""
    settings = dict(getattr(qmodel, "anpr_quantization", {"backend": BACKEND, "lstm": "float", "float_modules": []}))
    if settings.get("lstm") != "float":
        raise ValueError("only models quantized with lstm='float' can be saved: dynamic INT8 LSTM weights are "
                         "packed objects that weights-only loading refuses")
    ckpt = weights_dict(config, qmodel.state_dict(), KIND, quantization=settings, **meta)
    graph = getattr(qmodel, "anpr_onnx_int8", None)
    if graph is not None:  # a uint8 tensor: weights-only loading takes it
        ckpt["onnx_int8"] = torch.frombuffer(bytearray(graph), dtype=torch.uint8)
    else:
        settings.pop("onnx_int8", None)
    save_atomic(ckpt, path)


def onnx_int8_graph(ckpt: dict | str | Path) -> bytes | None:
    """The ONNX Runtime INT8 graph an INT8 checkpoint (its dict, or its path) carries, as the bytes of
    an ONNX file, or None."""
    if not isinstance(ckpt, dict):
        with fx_deprecations_silenced():
            ckpt = read_checkpoint(ckpt)
    graph = ckpt.get("onnx_int8")
    return None if graph is None else graph.numpy().tobytes()


def freeze(qmodel: torch.nn.Module, config: CRNNConfig) -> torch.jit.ScriptModule:
    """The converted FX graph traced and frozen with TorchScript, for inference: same numbers, less
    Python between the ops, so a lower batch-1 latency (docs/experiments.md, "INT8: frozen with TorchScript").

    TorchScript is deprecated in torch 2.13 like FX quantization itself, and it is still what runs a
    converted FX graph without the Python interpreter; its notices are silenced here only. The
    trace is valid for any batch size: nothing in the graph branches on the input.
    """
    with fx_deprecations_silenced(), warnings.catch_warnings(), torch.inference_mode():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
        # nn.LSTM checks its input width with a Python `if`; the width is fixed by the architecture
        warnings.filterwarnings("ignore", message="Converting a tensor to a Python boolean")
        traced = torch.jit.trace(qmodel.eval(), _example_input(config))
        frozen = torch.jit.freeze(traced.eval())
    frozen.input_size = config.height, config.width
    return frozen


def load_quantized(path: str | Path, ckpt: dict | None = None, frozen: bool = True) -> torch.nn.Module:
    """Rebuild an INT8 FX model from a `save_quantized` checkpoint, in eval mode, without calibration.

    The graph is rebuilt from the stored config and qconfig (fresh CRNN, prepare_fx, convert_fx); the
    state dict then supplies the INT8 weights and every scale and zero point. `frozen` (default)
    returns it traced and frozen for inference (`freeze`); `frozen=False` gives the FX GraphModule.
    `ckpt`: the checkpoint dict when the caller has read it already.
    """
    if ckpt is None:
        with fx_deprecations_silenced():  # loading quantized tensors trips the same deprecation notices
            ckpt = read_checkpoint(path)
    kind = ckpt.get("kind", "fp32")
    if kind != KIND:
        raise CheckpointError(f"{path} holds a {kind} model, not {KIND}; load it with "
                              "anpr_ocr.reader.checkpoint.load_model")
    settings = ckpt.get("quantization") or {}
    if settings.get("backend", BACKEND) != BACKEND or settings.get("lstm", "float") != "float":
        raise CheckpointError(f"{path}: unsupported quantization settings {settings}")
    torch.backends.quantized.engine = BACKEND
    config = CRNNConfig.from_dict(ckpt["config"])
    float_modules = list(settings.get("float_modules", []))
    float_ops = list(settings.get("float_ops", []))  # files written before float_ops existed have none
    qmodel = _convert(_prepare(CRNN(config).eval(), qconfig_mapping("float", float_modules, float_ops)))
    try:
        qmodel.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: weights do not fit the INT8 model its config describes: {exc}") from exc
    qmodel.anpr_quantization = {**settings, "backend": BACKEND, "lstm": "float", "float_modules": float_modules,
                                "float_ops": float_ops}
    qmodel.input_size = config.height, config.width
    return freeze(qmodel, config) if frozen else qmodel.eval()

