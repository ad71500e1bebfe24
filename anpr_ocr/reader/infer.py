"""Batched inference, the one loop: a model's per-frame outputs for any number of grey crops, a batch at a time.

`predict`, `read_plates`, `anpr-ocr eval`, evaluation, the benchmark's accuracy, cross-validation and
recombination all run their models through `frame_logits`. The softmax runs in numpy: after an ONNX Runtime
call, torch's small ops measured slower.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.images import INPUT_HEIGHT, INPUT_WIDTH, batch_tensor
from .decode import softmax

DEFAULT_BATCH_SIZE = 64  # crops a model call reads


def input_size(model: Any) -> tuple[int, int]:
    """(height, width) a model reads crops at: its `input_size` (a CRNN, an INT8 model, an ONNX Runtime
    session), else the default 32x128."""
    return getattr(model, "input_size", (INPUT_HEIGHT, INPUT_WIDTH))


@torch.inference_mode()
def frame_logits(model: nn.Module, greys: list[np.ndarray], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Per-frame class logits (N, T, C) for grey crops, in batches. `model` is a torch module or
    anything called like one (an ONNX Runtime session) on the module's device."""
    out = []
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    height, width = input_size(model)
    for i in range(0, len(greys), batch_size):
        out.append(model(batch_tensor(greys[i:i + batch_size], height, width).to(device)).float().cpu().numpy())
    if not out:
        config = getattr(model, "config", None)
        return np.zeros((0, getattr(config, "time_steps", 0), getattr(config, "num_classes", 0)), np.float32)
    return np.concatenate(out)


def frame_probs(model: nn.Module, greys: list[np.ndarray], batch_size: int = DEFAULT_BATCH_SIZE,
                temperature: float = 1.0) -> np.ndarray:
    """Per-frame class probabilities (N, T, C), float64, of the logits divided by `temperature`."""
    logits = frame_logits(model, greys, batch_size).astype(np.float64)
    logits /= temperature
    return softmax(logits)
