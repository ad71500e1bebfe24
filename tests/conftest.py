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


def _shared(env: str, default: str, exists, what: str) -> Path:
    """A path into ../shared (or $env); tests that need it are skipped when it is missing."""
    path = _env_path(env, REPO.parent / default)
    if not exists(path):
        pytest.skip(f"{what} not found at {path} (set {env})")
    return path


@pytest.fixture(scope="session")
def data_root() -> Path:
    return _shared("ANPR_DATA", "shared/data/vkcv-ocr", lambda p: (p / "val" / "img").is_dir(), "real plate crops")


@pytest.fixture(scope="session")
def font_path() -> Path:
    return _shared("ANPR_FONT", "shared/fonts/RoadNumbers2.0.ttf", Path.is_file, "plate font")


@pytest.fixture(scope="session")
def texts_path() -> Path:
    return _shared("ANPR_TEXTS", "shared/data/plate_texts.txt", Path.is_file, "plate strings")


@pytest.fixture(scope="session")
def val_loaded(data_root):
    """The real val split, loaded once per session: (samples, report)."""
    from anpr_ocr.core.data import load_samples

    return load_samples(data_root / "val")


@pytest.fixture(scope="session")
def val_samples(val_loaded):
    return val_loaded[0]


@pytest.fixture(scope="session")
def photos_root() -> Path:
    """The whole VKCV photos (COCO keypoints splits) the plate detector is trained and scored on."""
    return _shared("ANPR_PHOTOS", "shared/data/vkcv-photos", lambda p: (p / "val" / "annotations.json").is_file(),
                   "whole photos")


def pytest_terminal_summary(terminalreporter) -> None:
    """One line saying why tests skipped, so that `pytest -q` tells a newcomer what to set."""
    reasons = [str(r.longrepr[2]) if isinstance(r.longrepr, tuple) else str(r.longrepr)
               for r in terminalreporter.stats.get("skipped", [])]
    missing = sorted({reason.split("(set ")[-1].rstrip(")") for reason in reasons if "(set " in reason})
    if missing:
        terminalreporter.write_line(
            f"{len(reasons)} skipped: the real data, font or plate strings were not found; set "
            f"{', '.join(missing)} (see tests/conftest.py: by default ../shared beside the checkout)")
