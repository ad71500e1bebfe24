"""Model cards: scores are evaluate's summaries of hand-made readings; INT8 cards repeat their FP32 card's facts."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from anpr_ocr.detector.photos import Photo, Plate
from anpr_ocr.report.cards import detector_card, int8_card, read_plates_settings, reader_card
from anpr_ocr.research.evaluate import Evaluation


def _evaluation(preds: list[str], greedy: list[str]) -> Evaluation:
    truths = ["A123BC77", "E456KM199", "X000XX00", "M076HM69"]
    return Evaluation(truths, preds, [0.9] * 4, ["a", "b", "c", "d"], greedy)


@pytest.fixture()
def cards():
    test = _evaluation(["A123BC77", "E456KM199", "X000XX0", "M076HM69"],  # 3 of 4; one character lost of 33
                       ["A123BC77", "E456KM19", "X000XX0", "M076HM69"])  # greedy: 2 of 4
    fp32 = reader_card("weights/m.pth", recipe="kept", data="real crops", splits={"train": 8, "val": 2, "test": 4},
                       trained_on="train + val", selected_on="cross-validation", seed=1, best_epoch=27,
                       epochs={"pretrain": 8}, wall_minutes=12.5, parameters=1000, train_config={"lr": 0.003},
                       temperature=0.86, temperature_fitted_on="out-of-fold readings",
                       evaluations={"val": None, "test": test})
    made = {"file": "weights/q.pth", "kind": "int8_fx", "made_from": "weights/m.pth", "method": "FX and ONNX Runtime",
            "metrics": {"test": {"exact_match": 0.25}}, "command": "python -m anpr_ocr make-int8 DATA",
            "temperature": 1.0, "created": "then"}
    int8 = int8_card(made, fp32, benchmark="figures/benchmark.json")
    return fp32, int8


def test_reader_card_scores_the_splits_scored(cards):
    fp32, _ = cards
    assert fp32["kind"] == "fp32" and fp32["file"] == "weights/m.pth" and fp32["temperature"] == 0.86
    assert fp32["metrics"] == {"test": {"n": 4, "decoder": "format", "reread_unsure": True, "exact_match": 0.75,
                                        "cer": pytest.approx(1 / 33), "greedy_exact_match": 0.5}}  # val not scored
    assert "predict_metrics" not in fp32  # the metrics are what predict reads
    gpu = {"gpu"} if torch.cuda.is_available() else set()
    assert set(fp32["environment"]) == {"python", "torch", "machine", "processor", "threads"} | gpu
    assert json.loads(json.dumps(fp32)) == fp32


def test_int8_card_takes_its_fp32_cards_facts(cards):
    fp32, int8 = cards
    assert int8["made_from"] == "weights/m.pth" and int8["kind"] == "int8_fx"
    assert {k: int8[k] for k in ("data", "seed", "temperature", "command", "created")} == \
        {k: fp32[k] for k in ("data", "seed", "temperature", "command", "created")}
    assert int8["metrics"]["test"]["exact_match"] == 0.25 and int8["method"] == "FX and ONNX Runtime"  # make-int8's
    assert int8["benchmark"] == "figures/benchmark.json"


def test_detector_card_counts_photos_and_plates_and_joins_the_scores():
    grey = np.zeros((4, 4), np.uint8)
    plate = Plate(np.zeros((4, 2)), "A123BC77")
    splits = {"val": [Photo("a", grey, [plate]), Photo("b", grey, [])], "test": [Photo("c", grey, [plate, plate])]}
    card = detector_card("plate_detector.pth", data="photos", splits=splits, recipe={"epochs": 2}, epochs=2,
                         best_epoch=1, wall_seconds=93.0, parameters=5, read_plates={"threshold": 0.4},
                         detection={"val": {"ap50": 0.5}, "test": {"ap50": 1.0}},
                         end_to_end={"val": {"read_rate": 0.25}, "test": {"read_rate": 0.75}}, speed={"photos": 1})
    assert card["splits"] == {"val": {"photos": 2, "plates": 1}, "test": {"photos": 1, "plates": 2}}
    assert card["metrics"] == {"val": {"ap50": 0.5, "read_rate": 0.25}, "test": {"ap50": 1.0, "read_rate": 0.75}}
    assert card["wall_minutes"] == 1.6 and card["read_plates"] == {"threshold": 0.4} and "int8" not in card
    recipe = {"calibration": "2 training photos"}
    with_int8 = detector_card("plate_detector.pth", data="photos", splits=splits, recipe={}, epochs=2, best_epoch=1,
                              wall_seconds=1.0, parameters=5, read_plates={}, detection={}, end_to_end={}, speed={},
                              int8=recipe)
    assert with_int8["int8"] == recipe


def test_read_plates_settings_say_what_runs_the_detector(monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    settings = read_plates_settings(0.4)
    assert settings["threshold"] == 0.4 and settings["detector_backend"] == "onnx"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as without the onnx extra
    assert read_plates_settings(0.4)["detector_backend"] == "torch"
