"""Loading labelled plate crops, in the layouts users actually have.

- Nomeroff OCR layout: `<root>/<split>/img/<stem>.<image suffix>` with the label in the
  `"description"` field of `<root>/<split>/ann/<stem>.json`.
- A folder whose file names hold the label: `A123BC77.png`, `0001_A123BC77.jpg`.
- A CSV file of `path,text` rows (paths relative to the CSV).

Bad entries (unreadable image, missing or invalid JSON, a label outside the alphabet) are skipped
and counted in a `LoadReport`, never raised halfway through and never dropped silently.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from .alphabet import LabelError, normalise_label
from .images import ImageError, read_image, walk_images

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Sample:
    """One labelled crop: grey uint8 image at its native size, Latin label, where it came from."""

    image: np.ndarray
    text: str
    source: str


@dataclass
class LoadReport:
    """What a loader read and what it skipped, with the reason for each skip."""

    source: str
    loaded: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        """Count one item skipped for `reason`; the first few are kept as examples of where."""
        self.skipped[reason] += 1
        if len(self.examples) < 20:
            self.examples.append((where, reason))

    def __str__(self) -> str:
        line = f"{self.source}: loaded {self.loaded}, skipped {sum(self.skipped.values())}"
        if self.skipped:
            line += " (" + ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) + ")"
        return line


def load_samples(path: str | Path, progress: bool = False) -> tuple[list[Sample], LoadReport]:
    """Load a split folder (Nomeroff `img/` + `ann/`), a folder of labelled file names, or a CSV."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        pairs, report = _csv_pairs(path)
    elif (path / "img").is_dir():
        pairs, report = _nomeroff_pairs(path)
    elif path.is_dir():
        pairs, report = _filename_pairs(path)
    else:
        raise FileNotFoundError(f"no dataset at {path}: expected a split folder, an image folder or a CSV")
    samples = []
    for image_path, label in with_progress(pairs, f"loading {path.name}", progress):
        try:
            text = normalise_label(label)
            samples.append(Sample(read_image(image_path), text, str(image_path)))
        except LabelError:
            report.skip(str(image_path), "label outside the alphabet")
        except (ImageError, OSError):
            report.skip(str(image_path), "unreadable image")
    report.loaded = len(samples)
    return samples, report


T = TypeVar("T")


def with_progress(items: Iterable[T], desc: str, enabled: bool = True) -> Iterable[T]:
    """`items` behind a tqdm bar when `enabled` and tqdm (the train extra) is installed, else as they are:
    reading plates never needs a bar."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=desc, leave=False)


def load_splits(root: str | Path, splits: tuple[str, ...] = SPLITS,
                progress: bool = False) -> tuple[dict[str, list[Sample]], dict[str, LoadReport]]:
    """Load each split under a Nomeroff-layout root: `{split: samples}`, `{split: report}`."""
    root = Path(root)
    missing = [s for s in splits if not (root / s).is_dir()]
    if missing:
        raise FileNotFoundError(f"{root} has no split folder(s) {missing}")
    loaded = {s: load_samples(root / s, progress=progress) for s in splits}
    return {s: v[0] for s, v in loaded.items()}, {s: v[1] for s, v in loaded.items()}


def has_dataset(root: str | Path, splits: tuple[str, ...] = SPLITS) -> bool:
    """Whether `root` holds the Nomeroff layout with every split, each with images."""
    root = Path(root)
    return all((root / s / "img").is_dir() and any((root / s / "img").iterdir()) for s in splits)


def _nomeroff_pairs(split_dir: Path) -> tuple[list[tuple[Path, str]], LoadReport]:
    report = LoadReport(str(split_dir))
    pairs = []
    for image_path in walk_images(split_dir / "img", recursive=False):
        ann_path = split_dir / "ann" / f"{image_path.stem}.json"
        try:
            ann = json.loads(ann_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            report.skip(str(ann_path), "missing ann JSON")
            continue
        except (json.JSONDecodeError, UnicodeDecodeError):
            report.skip(str(ann_path), "invalid ann JSON")
            continue
        label = ann.get("description") if isinstance(ann, dict) else None
        if not isinstance(label, (str, int)) or str(label).strip() == "":
            report.skip(str(ann_path), "ann JSON without a description")
            continue
        pairs.append((image_path, str(label)))
    return pairs, report


def _filename_pairs(folder: Path) -> tuple[list[tuple[Path, str]], LoadReport]:
    """`A123BC77.png` or `0001_A123BC77.png`: the label is the last `_`-separated part."""
    report = LoadReport(str(folder))
    return [(p, p.stem.rsplit("_", 1)[-1]) for p in walk_images(folder, recursive=False)], report


def _csv_pairs(csv_path: Path) -> tuple[list[tuple[Path, str]], LoadReport]:
    report = LoadReport(str(csv_path))
    pairs = []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.reader(handle), start=1):
            if not any(c.strip() for c in row):
                continue  # blank line
            if n == 1 and [c.strip().lower() for c in row[:2]] == ["path", "text"]:
                continue
            if len(row) < 2 or not row[0].strip():
                report.skip(f"{csv_path}:{n}", "malformed CSV row")
                continue
            pairs.append((csv_path.parent / row[0].strip(), row[1].strip()))
    return pairs, report
