"""Whole photos with annotated plates, as the detector is trained and scored on them.

`load_photos(split_dir)` reads a COCO keypoints split (`annotations.json` + images, as
`vkcv-photos/<split>` ships): every photo as grey with its plates' four corners and texts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..core.data import with_progress
from .net import corners_to_box


@dataclass
class Plate:
    """One annotated plate: its four corners and, where it could be read, its text."""

    corners: np.ndarray  # (4, 2) float: top-left, top-right, bottom-right, bottom-left, photo pixels
    text: str | None  # None where the annotation could not read it

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The axis-aligned box (x0, y0, x1, y1) around the plate's corners."""
        return corners_to_box(self.corners)


@dataclass
class Photo:
    """A grey photo and its annotated plates."""

    name: str
    grey: np.ndarray  # uint8, the photo's own pixels
    plates: list[Plate]
    path: str | None = None


def read_annotations(split_dir: str | Path) -> tuple[dict[int, dict], dict[int, list[Plate]]]:
    """A COCO keypoints split's annotations.json: its images by id (file name, size) and each image's plates.
    FileNotFoundError or ValueError names a missing or malformed file."""
    ann_path = Path(split_dir) / "annotations.json"
    if not ann_path.is_file():
        raise FileNotFoundError(f"no annotations.json in {split_dir}")
    try:
        coco = json.loads(ann_path.read_text(encoding="utf-8"))
        images = {im["id"]: im for im in coco["images"]}
        plates: dict[int, list[Plate]] = {i: [] for i in images}
        for a in coco["annotations"]:
            corners = np.asarray(a["keypoints"], np.float64).reshape(4, 3)[:, :2]
            plates[a["image_id"]].append(Plate(corners, a.get("text")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{ann_path}: not a COCO keypoints file with four corners a plate ({exc})") from exc
    return images, plates


def load_photos(split_dir: str | Path, progress: bool = False, limit: int | None = None) -> list[Photo]:
    """A COCO keypoints split (annotations.json, images under the split folder) as grey photos; with `limit`,
    only its first `limit` photos."""
    split_dir = Path(split_dir)
    ann_path = split_dir / "annotations.json"
    images, plates = read_annotations(split_dir)
    photos = []
    for image_id, im in with_progress(list(images.items())[:limit], f"photos {split_dir.name}", progress):
        path = split_dir / im["file_name"]
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise FileNotFoundError(f"{ann_path}: cannot read image {path}")
        photos.append(Photo(Path(im["file_name"]).stem, grey, plates[image_id], str(path)))
    return photos
