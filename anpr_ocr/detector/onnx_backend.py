"""The plate detector in ONNX Runtime: the fused net's graph, FP32 exported on load or the checkpoint's INT8 one,
run like the torch model.

    from anpr_ocr.detector.onnx_backend import export_detector_onnx, OnnxDetector
    graph = export_detector_onnx(fused_model)          # the ONNX file's bytes
    detector = OnnxDetector(graph, fused_model, threads=1)
    heat, features = detector.locate(to_tensor([letterbox(grey, 640).image]))   # as PlateDetector.locate gives

The graph is the net's `locate`: one input "image" (batch, 1, height, width) and two outputs, "heat" (batch,
1, height/8, width/8) and "features" (batch, fpn, height/8, width/8), with every axis but the channels
dynamic: photos letterbox to different sizes (`net.letterbox` pads each to its own multiple of 32). The corner
head stays in PyTorch's weights and is read at the heatmap's peaks only (`net.corners_at`).

A checkpoint that carries an INT8 graph (`detector.quantize`) is run with it; one without is exported in FP32 on
load, in memory, and never written: ONNX Runtime's FP32 convs already run the detector much faster than PyTorch
eager, with the same outputs up to float rounding (docs/experiments.md). onnx (for the export) and onnxruntime
come from the optional extra: `pip install "anpr_ocr[onnx]"`.
"""

from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import torch
from torch import nn

from ..core.cpu import cpu_features
from ..core.onnx_runtime import cpu_session, require_onnx
from .net import PlateDetector

INPUT_NAME = "image"
OUTPUT_NAMES = ("heat", "features")
EXPORT_SHAPE = (1, 1, 480, 640)  # the example input the export traces; the graph takes any multiple of 32


def stem_block() -> int:
    """The channels of ONNX Runtime's blocked layout on this CPU: 16 with AVX-512, 8 without (MLAS' NCHWc block)."""
    return 16 if cpu_features()["avx512"] else 8


def padded_stem(model: PlateDetector, block: int | None = None) -> PlateDetector:
    """A copy of a fused detector whose first conv has zero filters added up to `block` outputs (default: this
    CPU's `stem_block()`), read by zero weights of the second: the same outputs. With 8 channels ONNX Runtime
    reorders the stem's output back to plain layout on AVX-512 CPUs (its blocks are 16 channels), which costs
    about as much as a conv; on AVX2 its blocks are 8 channels, and padding would only double the second conv."""
    block = stem_block() if block is None else block
    model = copy.deepcopy(model)
    first, second = model.down8[0][0], model.down8[1][0]
    extra = block - first.out_channels
    if extra <= 0 or first.bias is None:  # wide enough, or not fused
        return model
    wide = nn.Conv2d(first.in_channels, block, first.kernel_size, first.stride, first.padding)
    wide.weight.data = torch.cat([first.weight.data, first.weight.data.new_zeros(extra, *first.weight.shape[1:])])
    wide.bias.data = torch.cat([first.bias.data, first.bias.data.new_zeros(extra)])
    reads = nn.Conv2d(block, second.out_channels, second.kernel_size, second.stride, second.padding)
    reads.weight.data = torch.cat([second.weight.data, second.weight.data.new_zeros(
        second.out_channels, extra, *second.weight.shape[2:])], 1)
    reads.bias.data = second.bias.data.clone()
    model.down8[0][0], model.down8[1][0] = wide, reads
    return model


class _Locate(torch.nn.Module):
    """What is exported: the net's `locate` as a module's forward."""

    def __init__(self, model: PlateDetector):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.locate(x)


def export_detector_onnx(model: PlateDetector, opset: int = 17, pad_stem: bool = True) -> bytes:
    """An FP32 detector's `locate` (best BatchNorm-folded: `net.fuse_for_inference`, its stem then padded:
    `padded_stem`, unless `pad_stem` is False) as the bytes of an ONNX file with dynamic batch, height and width."""
    require_onnx("onnx")  # torch.onnx.export needs it
    model = model.cpu().eval()
    model = _Locate(padded_stem(model) if pad_stem else model)
    axes = {0: "batch", 2: "height", 3: "width"}
    cells = {0: "batch", 2: "cells_y", 3: "cells_x"}
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter warns about tracing shapes
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(EXPORT_SHAPE),), buffer, input_names=[INPUT_NAME],
                          output_names=list(OUTPUT_NAMES), opset_version=opset, dynamo=False,
                          dynamic_axes={INPUT_NAME: axes, **{name: cells for name in OUTPUT_NAMES}})
    return buffer.getvalue()


class OnnxDetector:
    """An ONNX Runtime session used like `PlateDetector` in inference (`net.detect_one`): `locate` runs the
    graph, `corners` is the model's corner head, `config` its architecture (`net.detect_batch` reads its
    input size)."""

    def __init__(self, graph: bytes, model: PlateDetector, threads: int = 1):
        self.session = cpu_session(graph, threads)
        self.config = model.config
        self.corners = model.corners
        self.threads = threads

    def locate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) float in [-1, 1] -> (heat logits (B, 1, H/8, W/8), features (B, fpn, H/8, W/8)) as
        torch tensors, as `PlateDetector.locate` gives."""
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        heat, features = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: array})
        return torch.from_numpy(heat), torch.from_numpy(features)

    def eval(self) -> OnnxDetector:
        """Itself, so it can stand in for the torch module."""
        return self


def onnx_detector(model: PlateDetector, threads: int | None = None, graph: bytes | None = None) -> OnnxDetector:
    """A fused detector in ONNX Runtime with `threads` intra-op threads (default: torch's, as the reader's ONNX
    Runtime sessions take): `graph` (an ONNX file's bytes, e.g. the checkpoint's INT8 graph) beside the model's
    corner head, or without one the model's FP32 net exported."""
    require_onnx("onnxruntime")  # named before the export's time is spent
    threads = torch.get_num_threads() if threads is None else threads
    return OnnxDetector(export_detector_onnx(model) if graph is None else graph, model, threads)
