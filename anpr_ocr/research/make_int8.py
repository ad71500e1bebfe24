"""Make the committed INT8 checkpoint from the FP32 one, and its card, in one command:

    python -m anpr_ocr make-int8 ../shared/data/vkcv-ocr   # writes weights/crnn_ocr_model_int8_fx.pth and .json
    make_int8(FP32_WEIGHTS, "../shared/data/vkcv-ocr", INT8_WEIGHTS)   # the same, from Python

What it does, as the training notebook's INT8 cell does (same function, same crops): quantizes the
FP32 checkpoint with `reader.quantize.quantize_fx` calibrated on the first 256 train crops, which makes
both INT8 models (the FX graph and, with onnxruntime installed, the ONNX Runtime INT8 graph; see
`anpr_ocr.reader.quantize`), saves them in one checkpoint with the FP32 checkpoint's temperature, then reads
with each INT8 backend and with FP32 and writes the card: how each model was made, what `predict`
reads with each on test, and how often each reads otherwise than FP32 on the train crops it was not
calibrated on plus val (the "out of fold" check: never tuned on, and not the test split). The test
split is scored, never used to choose anything here. The FP32 checkpoint and its card are not touched.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core import metrics
from ..core.cpu import cpu_features
from ..core.data import load_samples
from ..core.files import write_json
from ..reader.checkpoint import load_model, read_checkpoint
from ..reader.loader import reader_backend
from ..reader.predict import DEFAULT_DECODER, read_greys
from ..reader.quantize import fx_deprecations_silenced, quantize_fx, save_quantized
from .machine import created_now, environment, module_version

CALIBRATION_CROPS = 256  # the first train crops, as the notebook calibrates
COMMAND = "python -m anpr_ocr make-int8"  # the command line's way in (anpr_ocr.cli.main), named on the card


def _scores(truths: list[str], preds: list[str]) -> dict:
    return {"n": len(truths), "exact_match": metrics.exact_match(truths, preds), "cer": metrics.cer(truths, preds)}


def make_int8(fp32_path: str | Path, data_root: str | Path, out_path: str | Path,
              card_path: str | Path | None = None, calibration_crops: int = CALIBRATION_CROPS) -> dict:
    """Quantize `fp32_path` on the first `calibration_crops` train crops of `data_root` into `out_path`
    and write its card (`card_path`, default: beside it with .json); returns the card."""
    data_root = Path(data_root)
    splits = {name: load_samples(data_root / name)[0] for name in ("train", "val", "test")}
    return int8_from_splits(fp32_path, splits, out_path, card_path, calibration_crops,
                            command=f"{COMMAND} DATA (anpr_ocr.research.make_int8.make_int8; DATA = {data_root.name})")


def int8_from_splits(fp32_path: str | Path, splits: dict[str, list], out_path: str | Path,
                     card_path: str | Path | None = None, calibration_crops: int = CALIBRATION_CROPS,
                     command: str = "ocr_train.ipynb") -> dict:
    """`make_int8` on splits already loaded ({"train", "val", "test"}: lists of samples), as the training
    notebook calls it; `command` is what the card says made it."""
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    card_path = Path(card_path) if card_path is not None else out_path.with_suffix(".json")
    ckpt = read_checkpoint(fp32_path)
    model = load_model(fp32_path, ckpt)
    calibration = [s.image for s in splits["train"][:calibration_crops]]
    qmodel = quantize_fx(model, calibration)
    save_quantized(qmodel, model.config, out_path, temperature=ckpt.get("temperature", 1.0),
                   calibration=f"{len(calibration)} train crops")
    with fx_deprecations_silenced():  # reading quantized tensors trips FX's deprecation notices
        quantization = read_checkpoint(out_path).get("quantization")
    scored = int8_scores(fp32_path, out_path, splits, calibration_crops, "onnx_int8" in quantization)
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    card.pop("predict_metrics", None)  # the shape before metrics meant what predict reads
    card.pop("rescored", None)  # scripts/rescore_reader.py's scoring of the model this one replaces
    card.update({
        "file": _shown(out_path), "kind": "int8_fx", "made_from": _shown(fp32_path),
        "method": "two INT8 models of the same FP32 weights, calibrated on the same crops: "
                  "torch.ao.quantization.quantize_fx post-training static quantization, x86 backend "
                  "(convs INT8 with 7-bit per-channel weights and 8-bit activations, LSTM and head float; "
                  "predict backend='torch'), and ONNX Runtime quantize_static QDQ (convs INT8 with 7-bit "
                  "per-channel weights and activation ranges at their 99.999th percentile, LSTM with INT8 "
                  "weights and dynamically quantized activations, head float; "
                  "predict backend='onnx'); predict(backend='auto') runs ONNX Runtime's where onnxruntime "
                  "is installed and FX's elsewhere (anpr_ocr.core.cpu)",
        "quantization": quantization, "calibration": f"{len(calibration)} train crops",
        "temperature": ckpt.get("temperature", 1.0),
        **scored,
        "command": command,
        "environment": {**environment(), "cpu": cpu_features(), "onnxruntime": module_version("onnxruntime")},
        "created": created_now(),
    })
    write_json(card_path, card)
    return card


def int8_scores(fp32_path: str | Path, int8_path: str | Path, splits: dict[str, list],
                calibration_crops: int = CALIBRATION_CROPS, onnx: bool = True) -> dict:
    """What an INT8 card says each model reads: `metrics` (what `predict` reads on test with the INT8 model that
    "auto" runs here) and `reads_by_backend` (FP32, FX INT8 and, with `onnx`, ONNX Runtime INT8, each as `predict`
    reads, its second look included, and by greedy decoding of each crop once, on test and on the train crops
    after the first `calibration_crops` plus val, with how many readings differ from FP32's)."""
    held = splits["train"][calibration_crops:] + splits["val"]  # not calibrated on; not test
    backends = {"fp32": (fp32_path, "torch"), "int8_fx": (int8_path, "torch")}
    if onnx:
        backends["int8_onnx"] = (int8_path, "onnx")
    reads: dict[str, dict] = {}
    for name, (weights, backend) in backends.items():
        row = {}
        for split, samples in (("test", splits["test"]), ("uncalibrated_train_and_val", held)):
            greys, truths = [s.image for s in samples], [s.text for s in samples]
            for decoder in dict.fromkeys((DEFAULT_DECODER, "greedy")):
                once = decoder != DEFAULT_DECODER  # greedy: the model's best path, each crop read once
                texts = [d.text for d in read_greys(greys, weights, decoder, backend=backend, reread_unsure=not once)]
                row[f"{split} {decoder}"] = {**_scores(truths, texts), "texts": texts}
        reads[name] = row

    def differ(name: str, key: str) -> int:
        return sum(a != b for a, b in zip(reads[name][key]["texts"], reads["fp32"][key]["texts"]))

    def summary(name: str) -> dict:
        return {key: {**{k: v for k, v in row.items() if k != "texts"},
                      **({"differs_from_fp32": differ(name, key)} if name != "fp32" else {})}
                for key, row in reads[name].items()}

    test_key = f"test {DEFAULT_DECODER}"
    default = {"onnx": "int8_onnx", "torch": "int8_fx"}[reader_backend(int8_path)]  # what "auto" runs here
    return {"metrics": {"test": {"n": len(splits["test"]), "decoder": DEFAULT_DECODER, "reread_unsure": True,
                                 "model": default, **{k: reads[default][test_key][k] for k in ("exact_match", "cer")},
                                 "greedy_exact_match": reads[default]["test greedy"]["exact_match"]}},
            "reads_by_backend": {name: summary(name) for name in reads}}


def _shown(path: Path) -> str:
    """A path as the cards write it: relative to the working directory when it lies under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


