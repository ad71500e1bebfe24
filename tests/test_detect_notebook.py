"""detect_train.ipynb runs top to bottom in fast mode: on the real photos, and on its embedded default."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from anpr_ocr.detector.checkpoint import detector_threshold
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import MIN_READING_CONFIDENCE, MIN_VALID_READING_CONFIDENCE
from anpr_ocr.train.detector import THRESHOLDS
from anpr_ocr.video.clips import ClipConfig, load_clip_photos, plan_clip

papermill = pytest.importorskip("papermill")

REPO = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, photos: Path) -> str:
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(REPO / "detect_train.ipynb"), str(out), cwd=str(REPO), progress_bar=False,
                               parameters={"FAST": True, "PHOTOS": str(photos), "OUT": str(tmp_path / "run")})
    nb = nbformat.read(out, as_version=4)
    return "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                     for cell in nb.cells for o in cell.get("outputs", []))


def test_detect_notebook_fast_mode_on_real_photos(tmp_path, photos_root):
    text = _run(tmp_path, photos_root)
    run = tmp_path / "run"
    for name in ("weights/plate_detector.pth", "weights/plate_detector.json", "figures/detect_data.png",
                 "figures/detect_curves.png", "figures/detect_gallery.png", "figures/detect_metrics.json"):
        assert (run / name).is_file(), name
    card = json.loads((run / "weights/plate_detector.json").read_text())
    assert card["data"].startswith("VKCV whole photos")
    assert card["splits"]["test"]["photos"] == 8
    assert 0.0 <= card["metrics"]["test"]["ap50"] <= 1.0 and card["speed"]["array_median_ms"] > 0
    assert card["read_plates"]["min_reading_confidence"] == MIN_READING_CONFIDENCE
    assert card["read_plates"]["min_valid_reading_confidence"] == MIN_VALID_READING_CONFIDENCE
    # what the fast mode fixes, counted here from the photos themselves: the first 8 test photos, 3 timed, 1 epoch
    plates = sum(len(p.plates) for p in load_photos(photos_root / "test")[:8])
    assert card["splits"]["test"] == {"photos": 8, "plates": plates}
    test = card["metrics"]["test"]
    assert (test["photos"], test["plates"]) == (8, plates)
    assert (test["found_rate"], test["read_rate"], test["extra_per_photo"]) == \
        (test["found"] / plates, test["read"] / plates, test["extra"] / 8)
    assert test["ap"] == pytest.approx((test["ap50"] + test["ap75"]) / 2)
    assert card["epochs"] == 1 and card["speed"]["photos"] == 3
    # the threshold chosen on val is one of those swept, and the one stored with the committed detector file
    assert card["read_plates"]["threshold"] in THRESHOLDS
    assert detector_threshold(run / "weights/plate_detector.pth") == card["read_plates"]["threshold"]
    assert "EMBEDDED DEFAULT" not in text
    # the video section: a clip of the first 2 test photos (fast mode), its shots planned again here from its recipe
    video = json.loads((run / "figures/detect_video.json").read_text())
    clip_photos = load_clip_photos(photos_root / "test")[:2]
    shots = plan_clip(clip_photos, ClipConfig(**video["clip"]))
    labels = json.loads((run / "runs/video/test.json").read_text())
    entry = video["splits"]["test"]
    assert entry["clip"]["photos"] == 2 and labels["photos"] == [Path(p.path).name for p in clip_photos]
    assert (entry["clip"]["shots"], entry["clip"]["frames"]) == (len(shots), sum(s.frames for s in shots))
    with_plates = sum(any(p["expected"] for p in s["plates"]) for s in labels["shots"])
    (figures,) = entry["runs"]
    assert figures["every"] == 1 and figures["frames_read"] == entry["clip"]["frames"]
    for method in ("weighted", "best_frame", "majority"):
        scores = figures["scores"][method]
        assert scores["shots"] == with_plates and 0 <= scores["shots_read"] <= with_plates
        assert scores["plates"] == entry["clip"]["expected_plates"]
    assert "shots read" in text and "frames read a second" in text


def test_detect_notebook_without_photos_uses_the_embedded_default(tmp_path):
    empty = tmp_path / "no-photos"
    empty.mkdir()
    text = _run(tmp_path, empty)
    assert "EMBEDDED DEFAULT" in text and str(empty) in text
    embedded = tmp_path / "run" / "runs" / "embedded"
    card = json.loads((embedded / "weights/plate_detector.json").read_text())
    assert card["data"].startswith("EMBEDDED DEFAULT")
    assert not (tmp_path / "run" / "weights").exists() and not (tmp_path / "run" / "figures").exists()
    assert "video section skipped" in text and not (embedded / "figures/detect_video.json").exists()
