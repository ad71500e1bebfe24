"""Torch datasets over real crops and rendered plates, sharing augmentation and preprocessing."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..core.alphabet import encode
from ..core.data import Sample
from ..core.images import INPUT_HEIGHT, INPUT_WIDTH, preprocess
from .augment import apply
from .recombine import BODY, swap_region
from .synth import PlateRenderer


class _Seeded(Dataset):
    """Each item draws its randomness from (seed, epoch, index): any worker count, same data. Items are
    preprocessed to `input_size` (height, width), the model's."""

    def __init__(self, augmentation, seed: int, input_size: tuple[int, int]):
        self.augmentation = augmentation
        self.seed = seed
        self.input_size = input_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])

    def _item(self, grey: np.ndarray, text: str, rng: np.random.Generator):
        if self.augmentation is not None:
            self.augmentation.set_random_seed(int(rng.integers(2**31)))
            grey = apply(self.augmentation, grey)
        return torch.from_numpy(preprocess(grey, *self.input_size)), text


class RealPlates(_Seeded):
    """Loaded crops, augmented on the fly when an augmentation is given, and after `recombine` some of
    them given another crop's region code."""

    def __init__(self, samples: list[Sample], augmentation=None, seed: int = 0,
                 input_size: tuple[int, int] = (INPUT_HEIGHT, INPUT_WIDTH)):
        super().__init__(augmentation, seed, input_size)
        self.samples = samples
        self.swap_share, self.cuts, self.donors = 0.0, [], []

    def recombine(self, cuts: list[int | None], share: float) -> None:
        """From now on `share` of the crops that have a cut take a donor's region part (`recombine.swap_region`),
        the donor drawn evenly over the region codes and then over that code's crops."""
        if len(cuts) != len(self.samples):
            raise ValueError(f"need one cut a crop, got {len(cuts)} for {len(self.samples)}")
        by_region: dict[str, list[int]] = {}
        for i, (sample, cut) in enumerate(zip(self.samples, cuts)):
            if cut is not None:
                by_region.setdefault(sample.text[BODY:], []).append(i)
        self.swap_share, self.cuts, self.donors = share, cuts, [by_region[r] for r in sorted(by_region)]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        s = self.samples[index]
        grey, text = s.image, s.text
        if self.swap_share and self.cuts[index] is not None:
            pick = np.random.default_rng([self.seed, self.epoch, index, 1])  # apart from the augmentation's draws
            if pick.random() < self.swap_share:
                crops = self.donors[pick.integers(len(self.donors))]
                d = crops[pick.integers(len(crops))]
                grey, text = swap_region(grey, text, self.cuts[index], self.samples[d].image, self.samples[d].text,
                                         self.cuts[d])
        return self._item(grey, text, self._rng(index))


class SyntheticPlates(_Seeded):
    """`size` plates rendered on the fly; a new set each epoch, the same set for the same seed."""

    def __init__(self, renderer: PlateRenderer, size: int, augmentation=None, seed: int = 0,
                 input_size: tuple[int, int] = (INPUT_HEIGHT, INPUT_WIDTH)):
        super().__init__(augmentation, seed + 1_000_003, input_size)
        self.renderer = renderer
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        rng = self._rng(index)
        grey, text = self.renderer.render(rng)
        return self._item(grey, text, rng)


def collate(batch: list[tuple[torch.Tensor, str]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """Stack images; concatenate targets for CTC; keep the texts for metrics."""
    images = torch.stack([b[0] for b in batch])
    texts = [b[1] for b in batch]
    targets = torch.tensor([c for t in texts for c in encode(t)], dtype=torch.long)
    lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
    return images, targets, lengths, texts
