"""`anpr-ocr train-detector`: a tiny run on photos laid out as its help says (COCO keypoints splits); and
`anpr-ocr make-detector-int8` on the detector it writes."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from anpr_ocr.cli.main import main
from anpr_ocr.detector.checkpoint import read_detector
from anpr_ocr.pipeline.read import read_plates
from anpr_ocr.train.detector import DetectConfig


def _write_split(folder: Path, photos) -> None:
    """Photos as vkcv-photos ships a split: img/*.png and annotations.json with four corner keypoints a plate."""
    (folder / "img").mkdir(parents=True)
    images, annotations = [], []
    for i, photo in enumerate(photos, 1):
        cv2.imwrite(str(folder / "img" / f"{photo.name}.png"), photo.grey)
        h, w = photo.grey.shape
        images.append({"id": i, "file_name": f"img/{photo.name}.png", "width": w, "height": h})
        for plate in photo.plates:
            keypoints = [v for x, y in plate.corners for v in (float(x), float(y), 2)]
            annotations.append({"id": len(annotations) + 1, "image_id": i, "keypoints": keypoints, "text": plate.text})
    (folder / "annotations.json").write_text(json.dumps({"images": images, "annotations": annotations}))


@pytest.fixture(scope="module")
def photos_root(tmp_path_factory) -> Path:
    from anpr_ocr.train.scenes import synthetic_photos
    from anpr_ocr.train.synth import PlateRenderer, SynthConfig

    root = tmp_path_factory.mktemp("photos")
    scenes = synthetic_photos(PlateRenderer(SynthConfig()), 5, seed=3, size=(240, 320))
    for i, photo in enumerate(scenes):
        photo.name = f"scene{i}"
    _write_split(root / "train", scenes[:3])
    _write_split(root / "val", scenes[3:])
    return root


# crops of 224 px: the smallest multiple of 32 that holds the widest plate PlateScenes pastes (180 px) with its margins
TINY = ["--epochs", "1", "--minutes", "0", "--crops-per-epoch", "8", "--batch-size", "4", "--crop-size", "224",
        "--input-size", "128", "--workers", "0", "--threads", "1"]


def test_a_tiny_run_writes_a_detector_read_takes(photos_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train-detector", "--data", str(photos_root), "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "trained on 3 photos, selected on 2" in printed and str(out / "best.pth") in printed
    assert sorted(p.name for p in out.iterdir()) == ["best.pth", "config.json", "history.json", "last.pth"]
    config = json.loads((out / "config.json").read_text())
    recipe = DetectConfig()
    assert (config["epochs"], config["minutes"], config["crops_per_epoch"], config["crop_size"],
            config["model"]["input_size"]) == (1, None, 8, 224, 128)
    assert (config["lr"], config["paste_prob"], config["seed"]) == (recipe.lr, recipe.paste_prob, recipe.seed)
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [0] and history[0]["steps"] == 2  # 8 crops, 4 a step
    best = read_detector(out / "best.pth")
    assert best["config"]["input_size"] == 128 and best["epoch"] == 0 and "threshold" not in best
    photo = photos_root / "val" / "img" / "scene3.png"
    assert isinstance(read_plates(photo, detector=out / "best.pth", threshold=0.99), list)
    assert main(["read", str(photo), "--detector", str(out / "best.pth"), "--quiet"]) == 0


def test_bad_arguments_give_one_line(photos_root, tmp_path, capsys, monkeypatch):
    out = ["--out", str(tmp_path / "run")]
    for argv, named in ((["--data", str(tmp_path / "nowhere")], "annotations.json"),
                        (["--data", str(photos_root), "--crop-size", "100"], "--crop-size"),
                        (["--data", str(photos_root), "--epochs", "0"], "--epochs"),
                        (["--data", str(photos_root), "--texts", str(tmp_path / "no.txt")], "no.txt")):
        assert main(["train-detector", *argv, *out]) == 1, argv
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("anpr-ocr")]
        assert len(errors) == 1 and errors[0].startswith("anpr-ocr: error:") and named in errors[0], (argv, errors)
    monkeypatch.setenv("WORLD_SIZE", "2")  # as under torchrun with two processes
    assert main(["train-detector", "--data", str(photos_root), *out]) == 1
    assert "without torchrun" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    assert main(["train-detector", "--data", str(photos_root)]) == 2  # --out is required


def test_make_detector_int8_adds_the_graph_read_then_runs(photos_root, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from anpr_ocr.detector.checkpoint import int8_graph, load_plate_detector

    out = tmp_path / "run"
    assert main(["train-detector", "--data", str(photos_root), "--out", str(out), *TINY]) == 0
    detector, card = out / "best.pth", out / "best.json"
    card.write_text(json.dumps({"model": "plate_detector"}))
    assert int8_graph(read_detector(detector)) is None
    capsys.readouterr()
    assert main(["make-detector-int8", str(photos_root), "--detector", str(detector), "--calibration-photos", "2"]) == 0
    assert f"into {detector} and its recipe into {card}" in capsys.readouterr().out
    ckpt = read_detector(detector)
    assert int8_graph(ckpt) is not None and ckpt["int8"]["calibration"] == "2 training photos"
    assert json.loads(card.read_text()) == {"model": "plate_detector", "int8": ckpt["int8"]}
    assert type(load_plate_detector(detector, "onnx")[0]).__name__ == "OnnxDetector"
    photo = photos_root / "val" / "img" / "scene3.png"
    assert main(["read", str(photo), "--detector", str(detector), "--backend", "onnx", "--quiet"]) == 0
    for argv, named in (([str(photos_root), "--detector", str(tmp_path / "no.pth")], "no.pth"),
                        ([str(photos_root), "--detector", str(detector), "--calibration-photos", "0"],
                         "--calibration-photos"),
                        ([str(tmp_path), "--detector", str(detector)], "annotations.json")):
        assert main(["make-detector-int8", *argv]) == 1, argv
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("anpr-ocr")]
        assert len(errors) == 1 and named in errors[0], (argv, errors)
