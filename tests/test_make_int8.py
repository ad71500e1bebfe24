"""`anpr-ocr make-int8` (anpr_ocr.research.make_int8): the INT8 checkpoint and its card from a few real crops
of each split, the card's figures checked against what `predict` reads with the files it wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anpr_ocr.cli.main import main
from anpr_ocr.core import metrics
from anpr_ocr.core.data import load_samples
from anpr_ocr.reader.loader import DEFAULT_WEIGHTS, reader_backend
from anpr_ocr.reader.predict import predict

pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason=f"no committed weights at {DEFAULT_WEIGHTS}")
SIZES = {"train": 8, "val": 3, "test": 4}  # crops copied per split; the first 4 train crops calibrate


def _small_copy(data_root: Path, folder: Path) -> Path:
    """The first crops of each split of the Nomeroff-layout dataset, in the same layout."""
    for split, n in SIZES.items():
        (folder / split / "img").mkdir(parents=True)
        (folder / split / "ann").mkdir()
        for ann in sorted((data_root / split / "ann").glob("*.json"))[:n]:
            (image,) = (data_root / split / "img").glob(ann.stem + ".*")
            shutil.copy(ann, folder / split / "ann" / ann.name)
            shutil.copy(image, folder / split / "img" / image.name)
    return folder


def test_make_int8_writes_a_checkpoint_and_a_card_that_predict_agrees_with(data_root, tmp_path, capsys):
    data = _small_copy(data_root, tmp_path / "data")
    out = tmp_path / "int8.pth"
    # a card from before: its other keys stay (the benchmark file), its rescoring of the old model goes
    out.with_suffix(".json").write_text(json.dumps({"benchmark": "figures/benchmark.json",
                                                    "rescored": {"created": "2000-01-01 00:00 UTC"}}))
    assert main(["make-int8", str(data), "--out", str(out), "--calibration-crops", "4"]) == 0
    assert "wrote" in capsys.readouterr().out
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["benchmark"] == "figures/benchmark.json" and "rescored" not in card
    assert card["command"].startswith("python -m anpr_ocr make-int8 DATA")
    assert card["calibration"] == "4 train crops" and card["quantization"]["calibration_images"] == 4
    test = load_samples(data / "test")[0]
    held = load_samples(data / "train")[0][4:] + load_samples(data / "val")[0]
    assert card["reads_by_backend"]["fp32"]["uncalibrated_train_and_val greedy"]["n"] == len(held) == 7
    fp32 = [r.text for r in predict([s.image for s in test], decoder="greedy")]
    backends = {"int8_fx": "torch"}
    if "onnx_int8" in card["quantization"]:  # made with onnxruntime: the checkpoint carries its graph
        backends["int8_onnx"] = "onnx"
    assert set(card["reads_by_backend"]) == {"fp32", *backends}
    for name, backend in backends.items():
        assert reader_backend(out, backend) == backend
        texts = [r.text for r in predict([s.image for s in test], weights=out, decoder="greedy", backend=backend)]
        row = card["reads_by_backend"][name]["test greedy"]
        assert row["exact_match"] == pytest.approx(metrics.exact_match([s.text for s in test], texts))
        assert row["differs_from_fp32"] == sum(a != b for a, b in zip(texts, fp32))
    default = "int8_onnx" if "int8_onnx" in backends else "int8_fx"  # what predict(backend="auto") runs there
    assert card["metrics"]["test"]["model"] == default
    assert card["metrics"]["test"]["exact_match"] == card["reads_by_backend"][default]["test format"]["exact_match"]


def test_make_int8_refuses_a_missing_checkpoint_or_split_in_one_line(tmp_path, capsys):
    assert main(["make-int8", str(tmp_path), "--fp32", str(tmp_path / "none.pth")]) == 1
    assert main(["make-int8", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("anpr-ocr: error: --fp32: no checkpoint at") and "no train/ split" in err[1]
