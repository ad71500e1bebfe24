"""INT8 post-training static quantization of the CRNN with torch FX, for the x86 backend.

    from anpr_ocr.quantize import quantize_fx, save_quantized, load_quantized
    qmodel = quantize_fx(model, [s.image for s in calibration_samples])
    save_quantized(qmodel, model.config, "int8.pth", calibration="val")
    qmodel = load_quantized("int8.pth")          # or predict(img, weights="int8.pth")

What is quantized: every conv block (conv + batch norm + ReLU fused into one INT8 conv, per-channel
weights) and the max pools run in INT8, activations quantized per tensor with the x86 default
qconfig (histogram observer, reduce_range). The bidirectional LSTM and the linear CTC head stay
FP32, after one dequantize (see below).

LSTM decision. Measured 2026-11-26 on this 2-core dev box (Xeon with AVX512-VNNI/AMX, torch 2.13
CPU, 2 threads), dev checkpoint, interleaved round robin, median of 60 (batch 1) and 15 (batch 64)
calls; the box was shared with other jobs, so absolute numbers move by up to 30 % between runs,
the ranking did not:

    variant                                          batch 1    batch 64 (whole batch)
    LSTM alone, FP32 nn.LSTM (oneDNN RNN kernel)     0.75 ms    6.6 ms
    LSTM alone, dynamic INT8 (quantize_dynamic)      0.69 ms    6.5 ms
    LSTM alone, static quantizable LSTM              11-44 ms   36-137 ms   (two runs, eager flow)
    whole FX model, LSTM FP32                        1.96 ms    19.1 ms
    whole FX model, LSTM dynamic INT8                2.19 ms    21.0 ms
    whole model FP32 eager, for reference            2.95 ms    104.5 ms

Dynamic INT8 saves at most ~8 % on the LSTM alone and is slower inside the FX graph (extra
dequantize and packing around it); at batch 64 the convs and pools dominate anyway. The static
quantizable LSTM runs cell by cell in Python, 15-40x slower, and FX cannot even trace it in this
model (it wants an explicit (h0, c0) argument). Dynamic INT8 weights are also packed C++ objects
that `torch.load(weights_only=True)` refuses. Chosen: keep the LSTM FP32 (`lstm="float"`, the
default); `lstm="dynamic"` stays available for comparison, but such a model cannot be saved. The
float LSTM is about 0.7 ms of the ~1.6-2 ms an INT8 plate takes at batch 1, which is why batch 1
gains less than batch 64 (about 1.5-1.7x against 4.5-5.5x).

Batch-1 latency, measured 2026-11-26 on the same box (committed checkpoint, 2 threads, interleaved,
median of 400 calls, three rounds): the converted graph run by Python 2.03-2.15 ms, traced and frozen
with TorchScript 1.49-1.58 ms, FP32 eager 3.3-3.9 ms, so `load_quantized` freezes by default. Of
the frozen call, per torch.profiler, the float LSTM (oneDNN RNN kernel) is ~47 %, the six INT8
convs ~26 %, the four INT8 max pools ~14 %. The LSTM's cost barely depends on its size (batch 1,
2 threads): hidden 96 x 32 steps 0.82-0.96 ms, hidden 64 0.62-0.83, hidden 48 0.86, 16 steps
0.73-0.77; PyTorch's native (non-oneDNN) LSTM kernel 1.25-1.9 ms. Running both directions as one
unidirectional LSTM (hidden 192, block-diagonal weights, the backward half fed the reversed sequence;
identical outputs) does not save oneDNN's per-call cost either: 0.93 against 0.87 ms at batch 1, 14.0
against 8.7 ms at batch 64 (by hand, 2026-11-26, the LSTM alone). So neither a smaller LSTM nor a
merged one brings FX INT8 to 1.5 ms a plate, and ONNX Runtime, whose LSTM kernel is cheaper, stays faster at
batch 1.

Those profiles are of the model with a pooled first conv. Profiled again on 2026-11-27 (by hand, 2
threads, 300 calls), its frozen call spent ~180 us in the first INT8 conv (one input channel, the full
32x128 map) and ~175 us in the INT8 max pool after it: about a fifth of the call. So the first conv now
strides by 2 instead (`CRNNConfig.stem_stride`); the retrained model and the measurements that kept it
are in `figures/rejected/README.md` ("pooled_stem_seed1").

Calibration choices (chosen on val and on 300 train crops, never on test): calibrating on the
101 val crops or on 256 train crops gives the same val exact match (99.0 %, as FP32) and RMS logit
errors within 5 % of each other, so val it is; keeping the CTC head (and the
dropout around it, an identity in eval) FP32 cuts the RMS logit error against FP32 from 0.084 to
0.048 on val (0.092 -> 0.060 on train crops) at no measurable speed cost, and drops a pointless
quantize/dequantize of the LSTM output, so `DEFAULT_FLOAT_MODULES = ("head", "dropout")`. Keeping
the first conv FP32 as well helps slightly more but costs ~60 % at batch 64, so it is not done.
With the seed-1 model (2026-11-27, by hand), INT8 reads one val crop fewer than FP32 (a faint H read
as M); no single conv block or the LSTM kept FP32, nor calibrating on all 1,042 train crops or on val,
brings it back (the first conv FP32 cuts the RMS logit error on train crops 0.045 -> 0.040, and batch-64
throughput by ~40 %), so the settings stay as they are.

Why x86 and not onednn (by hand, 2026-11-27, seed-1 model, val): PyTorch's onednn qconfig keeps all 8
activation bits (no reduce_range) and cuts the RMS logit error against FP32 from 0.043 to 0.029, at the
same val exact match (98.02 %) and the same speed within this box's noise. It is not used because
PyTorch warns that it "may have accuracy issues on CPU without Vector Neural Network Instruction
support", and the committed INT8 file must read plates the same on any x86 CPU, AVX2-only ones
included; x86's reduce_range guards the 16-bit accumulation of non-VNNI kernels against overflow.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from .checkpoint import FORMAT_VERSION, CheckpointError, read_checkpoint, save_atomic
from .preprocess import batch_tensor
from .model import CRNN, CRNNConfig

KIND = "int8_fx"
BACKEND = "x86"
LSTM_MODES = ("float", "dynamic")
DEFAULT_FLOAT_MODULES = ("head", "dropout")  # see "Calibration choices" in the module docstring
# The conv map is flattened and permuted into LSTM steps in float, after the one dequantize. Left to
# the defaults, FX dequantizes, flattens, re-quantizes with a scale of its own, permutes and
# dequantizes again: two more ops a call and one more rounding (RMS logit error 0.045 -> 0.042 on val).
SHAPE_OPS_IN_FLOAT = ("flatten", "permute")


def qconfig_mapping(lstm: str = "float", float_modules: Sequence[str] = (),
                    float_ops: Sequence[str] = SHAPE_OPS_IN_FLOAT):
    """The x86 default static qconfig mapping, with the LSTM float or dynamic and some modules and
    tensor methods (`float_ops`) float."""
    with _fx_deprecations_silenced():
        from torch.ao.quantization import default_dynamic_qconfig, get_default_qconfig_mapping

    if lstm not in LSTM_MODES:
        raise ValueError(f"lstm must be one of {LSTM_MODES}, got {lstm!r}")
    mapping = get_default_qconfig_mapping(BACKEND)
    mapping.set_object_type(nn.LSTM, None if lstm == "float" else default_dynamic_qconfig)
    for op in float_ops:
        mapping.set_object_type(op, None)
    for name in float_modules:
        mapping.set_module_name(name, None)
    return mapping


@contextlib.contextmanager
def _fx_deprecations_silenced():
    """FX graph-mode quantization is deprecated in torch 2.13 and says so on every call: silence
    exactly those notices, here and nowhere else."""
    with warnings.catch_warnings():
        for message in ("torch.ao.quantization is deprecated", "Please use quant_min and quant_max",
                        "torch.quantize_per_tensor, torch.quantize_per_channel", "TypedStorage is deprecated",
                        "must run observer before calling calculate_qparams"):  # rebuilt graphs get qparams from the state dict
            warnings.filterwarnings("ignore", message=message)
        yield


def _example_input(config: CRNNConfig) -> tuple[torch.Tensor]:
    return (torch.zeros(1, 1, config.height, config.width),)


def _prepare(model: CRNN, mapping) -> torch.nn.Module:
    from torch.ao.quantization.quantize_fx import prepare_fx

    with _fx_deprecations_silenced():
        return prepare_fx(model, mapping, _example_input(model.config))


def _convert(prepared: torch.nn.Module) -> torch.nn.Module:
    from torch.ao.quantization.quantize_fx import convert_fx

    with _fx_deprecations_silenced():
        return convert_fx(prepared)


def quantize_fx(model: CRNN, calibration: list[np.ndarray], batch_size: int = 64, lstm: str = "float",
                float_modules: Sequence[str] = DEFAULT_FLOAT_MODULES) -> torch.nn.Module:
    """Post-training static INT8 quantization of an FP32 CRNN, calibrated on grey uint8 crops.

    The model is copied, not changed. `calibration` should be train or val crops (a hundred or so
    is plenty), never the test split. `float_modules` names submodules to keep FP32 (e.g. "head").
    """
    if not calibration:
        raise ValueError("quantize_fx needs at least one calibration image")
    torch.backends.quantized.engine = BACKEND
    float_modules = list(float_modules)
    prepared = _prepare(copy.deepcopy(model).cpu().eval(), qconfig_mapping(lstm, float_modules))
    with torch.inference_mode():
        for start in range(0, len(calibration), batch_size):
            prepared(batch_tensor(calibration[start:start + batch_size]))
    qmodel = _convert(prepared).eval()
    qmodel.anpr_quantization = {"backend": BACKEND, "lstm": lstm, "float_modules": float_modules,
                                "float_ops": list(SHAPE_OPS_IN_FLOAT),
                                "calibration_images": len(calibration)}
    return qmodel


def save_quantized(qmodel: torch.nn.Module, config: CRNNConfig, path: str | Path, **meta: Any) -> None:
    """Save a `quantize_fx` model like an FP32 checkpoint, with kind "int8_fx" (weights and qparams only)."""
    settings = dict(getattr(qmodel, "anpr_quantization", {"backend": BACKEND, "lstm": "float", "float_modules": []}))
    if settings.get("lstm") != "float":
        raise ValueError("only models quantized with lstm='float' can be saved: dynamic INT8 LSTM weights are "
                         "packed objects that weights-only loading refuses")
    ckpt = {"format_version": FORMAT_VERSION, "kind": KIND, "config": config.to_dict(),
            "alphabet": config.alphabet, "input_size": [config.height, config.width],
            "state_dict": qmodel.state_dict(), "quantization": settings, **meta}
    save_atomic(ckpt, path)


def freeze(qmodel: torch.nn.Module, config: CRNNConfig) -> torch.jit.ScriptModule:
    """The converted FX graph traced and frozen with TorchScript, for inference: same numbers, less
    Python between the ops (batch-1 latency about 2.1 -> 1.5 ms on the dev box; see the module docstring).

    TorchScript is deprecated in torch 2.13 like FX quantization itself, and it is still what runs a
    converted FX graph without the Python interpreter; its notices are silenced here only. The
    trace is valid for any batch size: nothing in the graph branches on the input.
    """
    with _fx_deprecations_silenced(), warnings.catch_warnings(), torch.inference_mode():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
        # nn.LSTM checks its input width with a Python `if`; the width is fixed by the architecture
        warnings.filterwarnings("ignore", message="Converting a tensor to a Python boolean")
        traced = torch.jit.trace(qmodel.eval(), _example_input(config))
        return torch.jit.freeze(traced.eval())


def load_quantized(path: str | Path, ckpt: dict | None = None, frozen: bool = True) -> torch.nn.Module:
    """Rebuild an INT8 FX model from a `save_quantized` checkpoint, in eval mode, without calibration.

    The graph is rebuilt from the stored config and qconfig (fresh CRNN, prepare_fx, convert_fx); the
    state dict then supplies the INT8 weights and every scale and zero point. `frozen` (default)
    returns it traced and frozen for inference (`freeze`); `frozen=False` gives the FX GraphModule.
    `ckpt`: the checkpoint dict when the caller has read it already.
    """
    if ckpt is None:
        with _fx_deprecations_silenced():  # loading quantized tensors trips the same deprecation notices
            ckpt = read_checkpoint(path)
    kind = ckpt.get("kind", "fp32")
    if kind != KIND:
        raise CheckpointError(f"{path} holds a {kind} model, not {KIND}; load it with anpr_ocr.checkpoint.load_model")
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
    return freeze(qmodel, config) if frozen else qmodel.eval()


def load_any(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Any anpr_ocr checkpoint, FP32 or FX INT8, read once: (model in eval mode, checkpoint dict)."""
    from .checkpoint import load_model

    with _fx_deprecations_silenced():
        ckpt = read_checkpoint(path)
    if ckpt.get("kind", "fp32") == "fp32":
        return load_model(path, ckpt), ckpt
    return load_quantized(path, ckpt), ckpt
