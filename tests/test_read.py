"""read_plates: predict's inputs and error rules, one list a photo, fields, geometry back in input pixels,
and `anpr-ocr read`."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from anpr_ocr.cli.main import main
from anpr_ocr.detector.checkpoint import save_detector
from anpr_ocr.detector.net import DetectorConfig, PlateDetector, box_iou, cut_plate
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import (
    CUTS,
    DEFAULT_DETECTOR,
    MIN_READING_CONFIDENCE,
    MIN_RECUT_CONFIDENCE,
    SURE_CONFIDENCE,
    PhotoReading,
    read_plates,
    recut,
)
from anpr_ocr.reader.decode import Decoded, ctc_log_likelihood
from anpr_ocr.reader.infer import frame_probs
from anpr_ocr.reader.loader import default_photo_weights, load_reader
from anpr_ocr.reader.predict import predict

REPO = Path(__file__).resolve().parents[1]
EVERY = {"min_reading_confidence": 0, "min_valid_reading_confidence": 0}  # no floor: every detection read


def _constant_detector(path: Path, heat_bias: float) -> Path:
    """A detector whose output ignores the photo: heat sigmoid(heat_bias) everywhere, and at every cell a
    plate 64x16 input px centred on the cell (offsets of -/+4 and -/+1 cells, in cells / 4)."""
    model = PlateDetector(DetectorConfig(input_size=512))
    with torch.no_grad():
        for head in (model.heat[-1], model.corners[-1]):
            head.weight.zero_()
        model.heat[-1].bias.fill_(heat_bias)
        model.corners[-1].bias.copy_(torch.tensor([-1, -0.25, 1, -0.25, 1, 0.25, -1, 0.25]))
    save_detector(model, path)
    return path


@pytest.fixture(scope="module")
def finds_everywhere(tmp_path_factory):
    return _constant_detector(tmp_path_factory.mktemp("det") / "everywhere.pth", 2.0)


@pytest.fixture(scope="module")
def finds_nothing(tmp_path_factory):
    return _constant_detector(tmp_path_factory.mktemp("det") / "nothing.pth", -4.0)


def test_corners_come_back_in_input_pixels(finds_everywhere):
    """256x128 photo -> scale 2 into the 512 input. Cell (0, 0) is centred on input px (4, 4); its plate spans
    input x -28..36, y -4..12, i.e. photo x -14..18, y -2..6 (corners / 2). All scores tie: cell (0, 0) comes first."""
    photo = np.full((128, 256), 90, np.uint8)
    readings = read_plates(photo, detector=finds_everywhere, min_width=0, **EVERY)
    first = readings[0]
    assert isinstance(first, PhotoReading)
    np.testing.assert_allclose(first.corners, [(-14, -2), (18, -2), (18, 6), (-14, 6)])
    assert first.box == pytest.approx((-14, -2, 18, 6))
    assert first.score == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-4)
    # min_width is in photo px: these plates are 32 px wide
    assert read_plates(photo, detector=finds_everywhere, min_width=33, **EVERY) == []
    assert len(read_plates(photo, detector=finds_everywhere, min_width=32, **EVERY)) == len(readings)


def test_with_one_cut_each_reading_is_the_reader_on_the_cut(finds_everywhere):
    """Each reading is `predict` with the photo reader on the plate's cut, the cuts read as one batch as
    read_plates reads them (the INT8 model's LSTM quantizes its inputs by the batch's range)."""
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (96, 160), dtype=np.uint8)
    readings = read_plates(photo, detector=finds_everywhere, min_width=0, **EVERY, cuts=CUTS[:1])
    assert readings
    cuts = [cut_plate(photo, np.array(r.corners)) for r in readings]
    for r, expected in zip(readings, predict(cuts, weights=default_photo_weights(), reread_unsure=False)):
        assert (r.text, r.valid, r.plate_type) == (expected.text, expected.valid, expected.plate_type)
        assert r.confidence == pytest.approx(expected.confidence, abs=1e-6)
        assert r.flagged == (r.confidence < 0.5)


def test_a_plate_reads_from_its_first_cut_when_sure_else_as_the_string_most_probable_over_its_cuts(photos_root):
    """On a real photo whose plate's first cut reads a valid plate surely, the reading is `predict` on that cut.
    Asked for more confidence than that, the plate reads, of the strings `predict` reads on its three cuts, as
    the one whose exact CTC probability averaged over the cuts is highest, with that mean as its confidence."""
    photo = load_photos(photos_root / "test")[0]
    (reading,) = read_plates(photo.grey, **EVERY, threshold=0.5)
    photo_reader = default_photo_weights()
    first = predict(cut_plate(photo.grey, np.array(reading.corners)), weights=photo_reader)
    assert first.valid and first.confidence >= SURE_CONFIDENCE
    assert (reading.text, reading.confidence) == (first.text, pytest.approx(first.confidence, rel=1e-6))

    (reading,) = read_plates(photo.grey, **EVERY, threshold=0.5, sure_confidence=first.confidence + 1e-3)
    crops = [cut_plate(photo.grey, np.array(reading.corners), mx, my) for mx, my in CUTS]
    reader = load_reader(photo_reader, "auto")
    probs = frame_probs(reader.model, crops, temperature=reader.temperature)
    mean = {r.text: float(np.exp(ctc_log_likelihood(probs, [r.text] * len(CUTS))).mean())
            for r in predict(crops, weights=photo_reader)}
    assert reading.text == max(mean, key=mean.get) == photo.plates[0].text
    assert reading.confidence == pytest.approx(mean[reading.text], rel=1e-6) != first.confidence


def test_a_detection_read_less_surely_than_the_recut_floor_reads_from_its_first_cut(finds_everywhere):
    """Noise reads with a confidence near zero: under the floor each detection reads as with its first cut alone;
    with no floor its three cuts are read as one, and the readings change."""
    photo = np.random.default_rng(0).integers(0, 256, (96, 160), dtype=np.uint8)
    one = read_plates(photo, detector=finds_everywhere, min_width=0, **EVERY, cuts=CUTS[:1])
    assert one and all(r.confidence < MIN_RECUT_CONFIDENCE for r in one)
    assert read_plates(photo, detector=finds_everywhere, min_width=0, **EVERY) == one
    assert read_plates(photo, detector=finds_everywhere, min_width=0, **EVERY, min_recut_confidence=0) != one


def test_photos_read_with_the_int8_model_where_it_runs_unless_the_environment_names_one(monkeypatch, tmp_path):
    import anpr_ocr.reader.loader as loader
    from anpr_ocr import FP32_WEIGHTS, INT8_WEIGHTS

    monkeypatch.delenv("ANPR_OCR_WEIGHTS", raising=False)
    assert default_photo_weights() == (INT8_WEIGHTS if loader.int8_runs_here() else FP32_WEIGHTS)
    monkeypatch.setattr(loader, "int8_runs_here", lambda: False)
    assert default_photo_weights() == FP32_WEIGHTS
    monkeypatch.setenv("ANPR_OCR_WEIGHTS", str(tmp_path / "mine.pth"))
    assert default_photo_weights() == tmp_path / "mine.pth"


def test_a_plate_is_cut_again_unless_its_first_cut_reads_surely_or_under_the_floor():
    assert recut(Decoded("A123BC77", 0.5, ()), 0.9, 0.05) and recut(Decoded("A123BC", 0.05, ()), 0.9, 0.05)
    assert not recut(Decoded("A123BC77", 0.9, ()), 0.9, 0.05)  # sure
    assert not recut(Decoded("A123BC", 0.049, ()), 0.9, 0.05)  # under the floor
    assert recut(Decoded("A123BC", 0.0, ()), 0.9, 0.0)  # a floor of 0 cuts every plate that is not sure again


def test_cuts_must_be_margin_pairs(finds_nothing):
    photo = np.full((64, 64), 90, np.uint8)
    for cuts in ((), ((0.1,),), ((0.1, 1.5),), ((0.1, "a"),)):
        with pytest.raises(ValueError, match="cuts"):
            read_plates(photo, detector=finds_nothing, cuts=cuts)


def test_readings_under_the_confidence_floor_are_not_reported(finds_everywhere):
    """The floor drops exactly the readings the reader gives less confidence, and keeps the rest as they were."""
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (96, 160), dtype=np.uint8)
    every = read_plates(photo, detector=finds_everywhere, min_width=0, **EVERY)
    confidences = sorted(r.confidence for r in every)
    floor = confidences[len(confidences) // 2]  # a floor between the readings' own confidences
    kept = read_plates(photo, detector=finds_everywhere, min_width=0, min_reading_confidence=floor,
                       min_valid_reading_confidence=floor)
    assert kept == [r for r in every if r.confidence >= floor]
    assert 0 < len(kept) < len(every) or confidences[0] == confidences[-1]


def test_a_valid_plate_has_its_own_lower_floor(photos_root):
    """On a real photo read at a low detector threshold, with every reading that is not a valid plate held to
    a floor of 1 and valid ones to 0, what is reported is the valid readings alone, the annotated plate among
    them; by default a valid reading under the common floor is still reported."""
    photo = load_photos(photos_root / "test")[0]
    every = read_plates(photo.grey, threshold=0.1, **EVERY)
    valid_only = read_plates(photo.grey, threshold=0.1, min_reading_confidence=1.0, min_valid_reading_confidence=0)
    assert valid_only == [r for r in every if r.valid or r.confidence >= 1.0]
    assert photo.plates[0].text in [r.text for r in valid_only]
    assert len(valid_only) < len(every)  # the detector's false alarms at this threshold read as no plate
    unsure = [r for r in every if r.valid and 0.05 <= r.confidence < MIN_READING_CONFIDENCE]
    assert all(r in read_plates(photo.grey, threshold=0.1) for r in unsure)


def test_inputs_and_shapes_like_predict(finds_nothing, tmp_path):
    grey = np.full((120, 200), 128, np.uint8)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), grey)
    for image in (grey, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), Image.fromarray(grey), str(path), path):
        assert read_plates(image, detector=finds_nothing) == []
    assert read_plates([grey, str(path)], detector=finds_nothing) == [[], []]
    assert read_plates((grey,), detector=finds_nothing) == [[]]
    assert read_plates([], detector=finds_nothing) == []


def test_a_bad_reader_checkpoint_is_named_even_when_no_plate_is_found(finds_nothing, tmp_path):
    from anpr_ocr.core.files import CheckpointError
    from anpr_ocr.video.stream import VideoReader

    photo = np.zeros((64, 64), np.uint8)
    missing, broken = tmp_path / "missing.pth", tmp_path / "broken.pth"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        read_plates(photo, weights=missing, detector=finds_nothing)
    with pytest.raises(CheckpointError, match="broken.pth"):
        read_plates(photo, weights=broken, detector=finds_nothing)
    with pytest.raises(FileNotFoundError, match="missing.pth"):  # before the first frame
        VideoReader(weights=missing, detector=finds_nothing)


def test_errors_name_the_input_like_predict(finds_nothing, tmp_path):
    grey = np.full((120, 200), 128, np.uint8)
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        read_plates(str(tmp_path / "nope.jpg"), detector=finds_nothing)
    with pytest.raises(TypeError, match="image 1"):
        read_plates([grey, 42], detector=finds_nothing)
    with pytest.raises(ValueError, match="image 0"):
        read_plates([np.zeros((0, 5), np.uint8)], detector=finds_nothing)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.jpg"):
        read_plates(bad, detector=finds_nothing)
    with pytest.raises(ValueError, match="alphabet"):
        read_plates(grey, detector=finds_nothing, alphabet="greek")
    with pytest.raises(ValueError, match="threshold"):
        read_plates(grey, detector=finds_nothing, threshold=-1)
    with pytest.raises(ValueError, match="min_reading_confidence"):
        read_plates(grey, detector=finds_nothing, min_reading_confidence="0.2")
    with pytest.raises(ValueError, match="min_valid_reading_confidence"):
        read_plates(grey, detector=finds_nothing, min_valid_reading_confidence=-0.1)
    with pytest.raises(ValueError, match="sure_confidence"):
        read_plates(grey, detector=finds_nothing, sure_confidence=None)
    with pytest.raises(ValueError, match="min_recut_confidence"):
        read_plates(grey, detector=finds_nothing, min_recut_confidence=-0.5)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="second_pass_over"):
            read_plates(grey, detector=finds_nothing, second_pass_over=bad)
    with pytest.raises(FileNotFoundError, match="no detector checkpoint"):
        read_plates(grey, detector=tmp_path / "missing.pth")
    not_a_detector = tmp_path / "reader.pth"
    torch.save({"state_dict": {}}, not_a_detector)
    with pytest.raises(ValueError, match="not a plate detector"):
        read_plates(grey, detector=not_a_detector)


def test_cli_read_json_and_draw(finds_everywhere, tmp_path, capsys):
    photo = np.full((96, 160, 3), 100, np.uint8)
    cv2.imwrite(str(tmp_path / "a.jpg"), photo)
    code = main(["read", str(tmp_path / "a.jpg"), "--detector", str(finds_everywhere), "--json",
                 "--min-width", "0", "--min-reading-confidence", "0", "--draw", str(tmp_path / "drawn")])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # JSON Lines: one photo a line
    assert len(rows) == 1
    assert rows[0]["path"].endswith("a.jpg") and rows[0]["plates"]
    plate = rows[0]["plates"][0]
    assert set(plate) >= {"text", "confidence", "plate_type", "box", "corners", "score"} and len(plate["corners"]) == 4
    drawn = cv2.imread(str(tmp_path / "drawn" / "a.jpg"))
    assert drawn.shape == photo.shape and np.abs(drawn.astype(int) - 100).max() > 50  # outlines were drawn
    assert main(["read", str(tmp_path / "nothing-here.jpg"), "--detector", str(finds_everywhere)]) == 1


@pytest.mark.skipif(not DEFAULT_DETECTOR.is_file(), reason="no committed detector")
def test_committed_detector_reads_a_real_test_photo(photos_root):
    coco = json.loads((photos_root / "test" / "annotations.json").read_text())
    image = coco["images"][0]
    plates = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
    readings = read_plates(photos_root / "test" / image["file_name"])
    for plate in plates:  # each annotated plate is read where it is annotated
        x, y, w, h = plate["bbox"]
        assert any(r.text == plate["text"] and box_iou(r.box, (x, y, x + w, y + h)) >= 0.5 for r in readings)
    blank = np.full((600, 800, 3), 127, np.uint8)
    assert read_plates(blank) == []
