"""INT8 out of fold: does quantization cost readings on crops no model of the chain has seen?

The committed INT8 model is read on test and on crops its FP32 model trained on; neither says what
INT8 costs on new plates without reading test again and again. A cross-validation run
(`research.crossval.run_cv`) leaves one FP32 model per fold, each never trained on its held-out
fold. `int8_out_of_fold` quantizes each of them as `research.make_int8` quantizes the committed
model (`quantize_fx` on the first `CALIBRATION_CROPS` of the fold's own training crops, which makes
the FX and the ONNX Runtime INT8 graphs) and reads the held-out fold with FP32 and with each INT8
backend, as `predict` reads (its default decoder at the record's fitted temperature, the unsure crops read again
from their other views). Nothing is
tuned on the held-out crops.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from ..core import metrics
from ..core.data import Sample
from ..reader.checkpoint import load_training_model
from ..reader.infer import frame_logits
from ..reader.loader import Reader, load_reader
from ..reader.model import CRNNConfig
from ..reader.predict import DEFAULT_DECODER, read_with
from ..reader.quantize import quantize_fx, save_quantized
from .crossval import assign_folds
from .machine import created_now, environment
from .make_int8 import CALIBRATION_CROPS


def int8_out_of_fold(record: dict, run_dir: str | Path, samples: list[Sample],
                     calibration_crops: int = CALIBRATION_CROPS, progress: bool = True) -> dict:
    """FP32 and INT8 readings of every held-out crop of one cross-validation seed.

    `record` is the seed's record (`run_cv`), `run_dir` its run folder (out_dir/<recipe>/seed<s>, holding
    fold<i>/last.pth) and `samples` the crops it was run on, in the same order. Returns per backend
    ("fp32", "int8_fx", "int8_onnx" when onnxruntime made that graph) the out-of-fold exact match and
    CER, and how many crops each INT8 backend reads otherwise than FP32, per fold and in all; for each INT8
    backend also the RMS difference of its logits from FP32's over all held-out crops (`logit_rms_vs_fp32`),
    a measure of fidelity that does not hinge on the few crops near a decision.
    """
    folds = assign_folds(samples, record["k"], record["fold_seed"])
    by_fold = {}
    for crop in record["crops"]:
        by_fold.setdefault(crop["fold"], []).append(crop["truth"])
    for fold, truths in by_fold.items():
        mine = [s.text for s, f in zip(samples, folds) if f == fold]
        if sorted(mine) != sorted(truths):
            raise ValueError(f"fold {fold} of the record holds other crops than these samples deal it: "
                             "pass the crops the cross-validation ran on")
    model_config = CRNNConfig.from_dict(record["train_config"]["model"])
    temperature = float(record["temperature"])
    texts: dict[str, list[str]] = {}
    truths: list[str] = []
    squared: dict[str, float] = {}  # per INT8 backend: squared logit differences from FP32, summed
    values = 0
    rows = []
    for fold in range(record["k"]):
        started = time.perf_counter()
        train = [s.image for s, f in zip(samples, folds) if f != fold]
        held = [s for s, f in zip(samples, folds) if f == fold]
        model = load_training_model(Path(run_dir) / f"fold{fold}" / "last.pth", model_config)
        greys = [s.image for s in held]
        fold_texts = {"fp32": [d.text for d in read_with(Reader(model, temperature), greys)]}
        fp32_logits = frame_logits(model, greys)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "int8.pth"
            qmodel = quantize_fx(model, train[:calibration_crops])
            save_quantized(qmodel, model.config, path, temperature=temperature)
            backends = {"int8_fx": "torch"}
            if getattr(qmodel, "anpr_onnx_int8", None) is not None:
                backends["int8_onnx"] = "onnx"
            for name, backend in backends.items():
                reader = load_reader(path, backend)
                fold_texts[name] = [d.text for d in read_with(reader, greys)]
                squared[name] = squared.get(name, 0.0) + float(
                    np.square(frame_logits(reader.model, greys) - fp32_logits).sum())
            values += fp32_logits.size
        fold_truths = [s.text for s in held]
        rows.append({"fold": fold, "n": len(held), **_compare(fold_truths, fold_texts),
                     "seconds": time.perf_counter() - started})
        if progress:
            print(f"  fold {fold}: " + ", ".join(f"{k} {v['exact_match']:.4f}" for k, v in rows[-1].items()
                                                 if isinstance(v, dict)), flush=True)
        truths += fold_truths
        for name, read in fold_texts.items():
            texts.setdefault(name, []).extend(read)
    onnx_recipe = {}
    if "int8_onnx" in texts:
        from ..reader.onnx_backend import onnx_int8_recipe

        onnx_recipe = {"onnx_int8": onnx_int8_recipe()}
    compared = _compare(truths, texts)
    for name, total in squared.items():
        compared[name]["logit_rms_vs_fp32"] = (total / values) ** 0.5
    return {"recipe": record["recipe"], "seed": record["seed"], "n": len(truths), "decoder": DEFAULT_DECODER,
            "reread_unsure": True,
            "temperature": temperature, "calibration": f"first {calibration_crops} training crops of each fold",
            **onnx_recipe,
            **compared, "folds": rows, "environment": environment(),
            "created": created_now()}


def _compare(truths: list[str], texts: dict[str, list[str]]) -> dict:
    """Each backend's exact match and CER, and for INT8 how many readings differ from FP32's."""
    out = {}
    for name, read in texts.items():
        out[name] = {"exact_match": metrics.exact_match(truths, read), "cer": metrics.cer(truths, read)}
        if name != "fp32":
            out[name]["differs_from_fp32"] = sum(a != b for a, b in zip(read, texts["fp32"]))
    return out
