"""Shared fixtures: where the real crops, the plate font and the plate strings live.

The real data and the font sit outside the repository (in `../shared`); tests that need them are
skipped when they are absent, and CI points at them with ANPR_DATA / ANPR_FONT / ANPR_TEXTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

torch.set_num_threads(1)  # keep test runs light on a shared CPU


def _env_path(name: str, default: Path) -> Path:
    return Path(os.environ.get(name, default))


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _env_path("ANPR_DATA", REPO.parent / "shared/data/vkcv-ocr")
    if not (root / "val" / "img").is_dir():
        pytest.skip(f"real plate crops not found at {root} (set ANPR_DATA)")
    return root


@pytest.fixture(scope="session")
def font_path() -> Path:
    path = _env_path("ANPR_FONT", REPO.parent / "shared/fonts/RoadNumbers2.0.ttf")
    if not path.is_file():
        pytest.skip(f"plate font not found at {path} (set ANPR_FONT)")
    return path


@pytest.fixture(scope="session")
def texts_path() -> Path:
    path = _env_path("ANPR_TEXTS", REPO.parent / "shared/data/plate_texts.txt")
    if not path.is_file():
        pytest.skip(f"plate strings not found at {path} (set ANPR_TEXTS)")
    return path


@pytest.fixture(scope="session")
def val_loaded(data_root):
    """The real val split, loaded once per session: (samples, report)."""
    from anpr_ocr.data import load_samples

    return load_samples(data_root / "val")


@pytest.fixture(scope="session")
def val_samples(val_loaded):
    return val_loaded[0]
