"""Model cards: the JSON written beside each committed model, saying what it is, how it was made and what it
scores. The notebooks pass what their run made; the cards take the scores from `evaluate`'s summaries (what
`predict` reads, greedy decoding beside) and add where and when they were measured."""

from __future__ import annotations

from ..detector.checkpoint import detector_backend
from ..pipeline.read import MIN_PLATE_WIDTH, MIN_READING_CONFIDENCE, MIN_VALID_READING_CONFIDENCE
from ..reader.loader import default_photo_weights
from ..research.evaluate import Evaluation
from ..research.machine import created_now, environment

READER_COMMAND = ("python scripts/publish_notebook.py ocr_train.ipynb"
                  " (ANPR_DATA, ANPR_FONT, ANPR_TEXTS from the environment)")


def summaries(evaluations: dict[str, Evaluation | None]) -> dict[str, dict]:
    """{split: evaluate's summary} for the splits scored (None: not scored, e.g. val for a model trained on it)."""
    return {name: ev.summary() for name, ev in evaluations.items() if ev is not None}


def reader_card(file: str, *, recipe: str, data: str, splits: dict[str, int], trained_on: str, selected_on: str,
                seed: int, best_epoch: int | None, epochs: dict, wall_minutes: float, parameters: int,
                train_config: dict, temperature: float, temperature_fitted_on: str,
                evaluations: dict[str, Evaluation | None], command: str = READER_COMMAND) -> dict:
    """The FP32 reader's card: the recipe and data it was trained on, how it was selected, its temperature and
    its scores on each split scored."""
    return {"file": file, "kind": "fp32", "recipe": recipe, "data": data, "splits": splits, "trained_on": trained_on,
            "selected_on": selected_on, "seed": seed, "best_epoch": best_epoch, "epochs": epochs,
            "wall_minutes": wall_minutes, "parameters": parameters, "train_config": train_config,
            "temperature": temperature, "temperature_fitted_on": temperature_fitted_on,
            "metrics": summaries(evaluations), "command": command, "environment": environment(),
            "created": created_now()}


def int8_card(made: dict, fp32: dict, *, benchmark: str) -> dict:
    """The INT8 reader's card: the card `research.make_int8` made (how each INT8 model was made, what each
    reads), with the data, seed, temperature, command and time of the FP32 card `fp32` it was made from, and
    where its benchmark is."""
    return {**made, "data": fp32["data"], "seed": fp32["seed"], "temperature": fp32["temperature"],
            "benchmark": benchmark, "command": fp32["command"], "created": fp32["created"]}


def read_plates_settings(threshold: float) -> dict:
    """What a detector's card says `read_plates` uses it with: its stored threshold and today's defaults, the
    reader's checkpoint and what runs the detector here among them ("onnx": its INT8 graph where the card has
    one, `detector.checkpoint.detector_backend`)."""
    return {"threshold": threshold, "reader": default_photo_weights().name, "detector_backend": detector_backend(),
            "min_plate_width_px": MIN_PLATE_WIDTH,
            "min_reading_confidence": MIN_READING_CONFIDENCE,
            "min_valid_reading_confidence": MIN_VALID_READING_CONFIDENCE}


def detector_card(file: str, *, data: str, splits: dict[str, list], recipe: dict, epochs: int, best_epoch: int,
                  wall_seconds: float, parameters: int, read_plates: dict, detection: dict[str, dict],
                  end_to_end: dict[str, dict], speed: dict, int8: dict | None = None) -> dict:
    """The plate detector's card: data (photos and plates a split), recipe, the settings `read_plates` uses it
    with, detection and end-to-end scores per split, its speed, and how its INT8 graph was made (`int8`: the
    recipe `detector.quantize.quantize_detector` returns; None when it has none)."""
    return {"model": "plate_detector", "file": file, "data": data,
            "splits": {k: {"photos": len(v), "plates": sum(len(p.plates) for p in v)} for k, v in splits.items()},
            "recipe": recipe, "epochs": epochs, "best_epoch": best_epoch, "wall_minutes": round(wall_seconds / 60, 1),
            "parameters": parameters, "read_plates": read_plates,
            "metrics": {name: {**detection[name], **end_to_end[name]} for name in detection},
            "speed": speed, **({} if int8 is None else {"int8": int8}), "environment": environment(),
            "created": created_now()}
