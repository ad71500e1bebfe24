"""INT8 out of fold: each fold's FP32 model and its INT8 models read the fold's held-out crops."""

import pytest
import torch

from anpr_ocr import predict
from anpr_ocr.core import metrics
from anpr_ocr.reader.checkpoint import TRAINING_STATE, read_checkpoint
from anpr_ocr.reader.loader import default_weights
from anpr_ocr.research.crossval import assign_folds
from anpr_ocr.research.int8_oof import int8_out_of_fold


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory, val_samples):
    """A 3-fold run whose every fold's last.pth holds the committed FP32 weights, and its record."""
    samples = val_samples[:36]
    ckpt = read_checkpoint(default_weights())
    run_dir = tmp_path_factory.mktemp("seed1")
    for fold in range(3):
        (run_dir / f"fold{fold}").mkdir()
        state = {key: None for key in TRAINING_STATE} | {"model": ckpt["state_dict"]}
        torch.save(state, run_dir / f"fold{fold}" / "last.pth")
    folds = assign_folds(samples, 3, 0)
    record = {"recipe": "committed", "seed": 1, "k": 3, "fold_seed": 0, "temperature": ckpt.get("temperature", 1.0),
              "train_config": {"model": ckpt["config"]},
              "crops": [{"fold": f, "truth": s.text} for s, f in zip(samples, folds)]}
    return record, run_dir, samples


def test_fp32_reads_as_predict_and_int8_tracks_it(cv_run):
    record, run_dir, samples = cv_run
    result = int8_out_of_fold(record, run_dir, samples, calibration_crops=16, progress=False)
    assert result["n"] == len(samples) and [r["n"] for r in result["folds"]] == [12, 12, 12]
    folds = assign_folds(samples, 3, 0)
    order = [s for fold in range(3) for s, f in zip(samples, folds) if f == fold]
    expected = [r.text for r in predict([s.image for s in order])]  # the committed model, as predict reads
    truths = [s.text for s in order]
    assert result["fp32"]["exact_match"] == metrics.exact_match(truths, expected)
    assert result["fp32"]["cer"] == pytest.approx(metrics.cer(truths, expected))
    for name in ("int8_fx", "int8_onnx") if "int8_onnx" in result else ("int8_fx",):
        assert result[name]["differs_from_fp32"] <= 2
        assert abs(result[name]["exact_match"] - result["fp32"]["exact_match"]) <= 2 / len(samples)


def test_refuses_crops_other_than_the_run_dealt(cv_run):
    record, run_dir, samples = cv_run
    other = samples[1:] + [samples[-1]]  # the first crop dropped, the last twice
    with pytest.raises(ValueError, match="fold"):
        int8_out_of_fold(record, run_dir, other, progress=False)
