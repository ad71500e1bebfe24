"""CRNN: a small convolutional feature extractor, a bidirectional LSTM, a linear CTC head.

The input is one grey crop, 32x128 by default (`CRNNConfig.height` and `width`: any multiple of 16
high and of 4 wide; every loader, dataset and backend reads crops at the size the model says in
`input_size`). A stride-2 first conv and three max poolings bring it to a (height / 16) x 32 map: 32
time steps of 4 px, enough for CTC on 9-character plates with repeated characters (at most 17 steps
needed).

Why the first conv strides instead of being pooled: a full-resolution conv and a 2x2 max pool over its
24 maps were about a fifth of an INT8 plate at batch 1 (both are slow kernels on one input channel and
a wide map). Striding computes a quarter of that conv and drops the pool: the same shapes and weights,
a faster INT8 model and the same val exact match (`docs/experiments.md`). The pooled stem
(`stem_stride=1`) still builds, for checkpoints written before the option existed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..core.alphabet import ALPHABET
from ..core.images import INPUT_HEIGHT, INPUT_WIDTH

# Pooling after each conv block: halve both sides twice, then height only (width stays 32).
_POOLS = ((2, 2), (2, 2), None, (2, 1), None, (2, 1))


@dataclass(frozen=True)
class CRNNConfig:
    """Architecture settings; stored in every checkpoint so the model can be rebuilt."""

    height: int = INPUT_HEIGHT
    width: int = INPUT_WIDTH
    channels: tuple[int, ...] = (24, 48, 64, 80, 96, 128)
    lstm_hidden: int = 96
    dropout: float = 0.1
    # 2: the first conv strides by 2; 1: it is followed by a 2x2 max pool (same output shape)
    stem_stride: int = 2
    alphabet: str = ALPHABET

    @property
    def num_classes(self) -> int:
        """Classes the head scores: the alphabet's characters and the CTC blank."""
        return len(self.alphabet) + 1  # + CTC blank at index 0

    @property
    def time_steps(self) -> int:
        """Frames the model outputs per crop: one per 4 px of input width."""
        return self.width // 4

    def to_dict(self) -> dict:
        """The config as plain JSON-ready values, as checkpoints store it."""
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> CRNNConfig:
        """The config `to_dict` wrote, including checkpoints written before `stem_stride` existed."""
        # configs saved before stem_stride existed describe the pooled stem
        return cls(**{"stem_stride": 1, **d, "channels": tuple(d["channels"])})


def conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """A 3x3 conv (no bias), BatchNorm and ReLU: one feature-extractor stage before its pooling."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class CRNN(nn.Module):
    """(B, 1, H, W) float in [-1, 1] -> (B, T, classes) logits; class 0 is the CTC blank."""

    def __init__(self, config: CRNNConfig | None = None):
        super().__init__()
        self.config = config = config or CRNNConfig()
        layers: list[nn.Module] = []
        c_in = 1
        if config.stem_stride not in (1, 2):
            raise ValueError(f"stem_stride must be 1 or 2, got {config.stem_stride}")
        if config.height % 16 or config.width % 4 or config.height < 16:
            raise ValueError(f"the input must be a multiple of 16 px high and of 4 px wide, got "
                             f"{config.height}x{config.width}")
        for i, (c_out, pool) in enumerate(zip(config.channels, _POOLS)):
            stride = config.stem_stride if i == 0 else 1
            layers.append(conv_block(c_in, c_out, stride))
            if pool and stride == 1:
                layers.append(nn.MaxPool2d(pool, pool))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        feature_height = config.height // 16
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = nn.LSTM(c_in * feature_height, config.lstm_hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * config.lstm_hidden, config.num_classes)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the crops it reads; every model `frame_logits` runs says it this way."""
        return self.config.height, self.config.width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-frame class logits (B, T, classes) for a batch of crops."""
        f = self.features(x)  # (B, C, height / 16, T)
        f = f.flatten(1, 2).permute(0, 2, 1)  # (B, T, C * height / 16)
        f, _ = self.rnn(self.dropout(f))
        return self.head(self.dropout(f))


def count_parameters(model: nn.Module) -> int:
    """How many numbers the model's parameters hold in all."""
    return sum(p.numel() for p in model.parameters())
