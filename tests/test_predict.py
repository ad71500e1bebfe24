"""predict(): real crops, every input form, bad inputs, random arrays, threads; calibration helpers."""

from __future__ import annotations

import dataclasses
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from anpr_ocr.core.alphabet import to_cyrillic
from anpr_ocr.core.data import load_samples
from anpr_ocr.core.files import CheckpointError, save_atomic
from anpr_ocr.reader.checkpoint import read_checkpoint
from anpr_ocr.reader.infer import frame_logits
from anpr_ocr.reader.loader import DEFAULT_WEIGHTS, load_reader
from anpr_ocr.reader.predict import PlateReading, predict
from anpr_ocr.research import calibrate

ERRORS = (ValueError, TypeError, OSError)
MIN_TEST_EXACT = 0.95  # the core issue's floor; the committed model reads 97 of 102 (95.1%), the goal is 97%
pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason=f"no committed weights at {DEFAULT_WEIGHTS}")


@pytest.fixture(scope="module")
def test_crops(data_root):
    samples, _ = load_samples(data_root / "test")
    return samples[:20]


@pytest.fixture(scope="module")
def crop(test_crops):
    return test_crops[0]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, crop):
    d = tmp_path_factory.mktemp("bad")
    (d / "not_an_image.png").write_text("hello, I am text")
    data = Path(crop.source).read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 2])
    cv2.imwrite(str(d / "one_pixel.png"), np.zeros((1, 1), np.uint8))
    (d / "empty.png").write_bytes(b"")
    return d


def _same(a: PlateReading, b: PlateReading) -> bool:
    """Equal readings up to float noise (batched and single forward passes differ by ~1e-9)."""
    return (a.text, a.plate_type, a.valid, a.flagged) == (b.text, b.plate_type, b.valid, b.flagged) \
        and a.confidence == pytest.approx(b.confidence, rel=1e-5) \
        and a.char_confidences == pytest.approx(b.char_confidences, rel=1e-5)


# ---- reading real crops ----------------------------------------------------------------------

def _test_split_files(data_root):
    """(image path, label) for every test crop, read straight from the files: no anpr_ocr loader."""
    import json

    pairs = []
    for image in sorted((data_root / "test" / "img").iterdir()):
        ann = json.loads((data_root / "test" / "ann" / f"{image.stem}.json").read_text(encoding="utf-8"))
        pairs.append((image, ann["description"]))
    return pairs


@pytest.mark.parametrize("weights", ["crnn_ocr_model_best.pth", "crnn_ocr_model_int8_fx.pth"])
def test_committed_models_read_the_test_split(data_root, weights):
    """The committed models read at least MIN_TEST_EXACT of the real test crops exactly, scored here
    by plain string comparison, independently of the package's metrics."""
    path = DEFAULT_WEIGHTS.parent / weights
    if not path.is_file():
        pytest.skip(f"no committed {path}")
    pairs = _test_split_files(data_root)
    readings = predict([p for p, _ in pairs], weights=path)
    exact = sum(r.text == label for r, (_, label) in zip(readings, pairs)) / len(pairs)
    assert len(pairs) == 102
    assert exact >= MIN_TEST_EXACT



def test_predict_reads_real_test_crops(test_crops):
    readings = predict([s.image for s in test_crops])
    exact = sum(r.text == s.text for r, s in zip(readings, test_crops)) / len(test_crops)
    assert exact >= 0.90
    for r in readings:
        assert isinstance(r, PlateReading)
        assert 0.0 <= r.confidence <= 1.0
        assert len(r.char_confidences) == len(r.text)
        assert all(0.0 <= c <= 1.0 for c in r.char_confidences)
        assert r.valid == (r.plate_type is not None)
        assert r.flagged == (r.confidence < 0.5)


def test_predict_single_in_single_out_list_in_list_out(test_crops):
    one = predict(test_crops[0].image)
    assert isinstance(one, PlateReading)
    many = predict([s.image for s in test_crops[:3]])
    assert isinstance(many, list) and len(many) == 3
    assert _same(many[0], one)
    pair = predict(tuple(s.image for s in test_crops[:2]))
    assert isinstance(pair, list) and all(_same(a, b) for a, b in zip(pair, many))
    assert predict([]) == []
    assert _same(predict([test_crops[0].image], batch_size=1)[0], one)


def test_predict_reading_is_frozen(crop):
    with pytest.raises(dataclasses.FrozenInstanceError):
        predict(crop.image).text = "X"


def test_predict_input_forms_agree(crop):
    path = Path(crop.source)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    forms = [str(path), path, bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), crop.image,
             Image.fromarray(rgb), Image.fromarray(crop.image), Image.fromarray(rgb).convert("RGBA"),
             Image.open(path)]
    texts = {predict(f).text for f in forms}
    assert texts == {predict(crop.image).text}


def test_predict_converts_other_dtypes_and_channels(crop):
    grey = crop.image
    expected = predict(grey).text
    bgra = cv2.cvtColor(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), cv2.COLOR_BGR2BGRA)
    for image in [bgra, grey[:, :, None], grey.astype(np.uint16) * 257, grey / 255.0,
                  grey.astype(np.float32), np.asfortranarray(grey), grey[:, ::-1][:, ::-1]]:
        assert predict(image).text == expected


def test_predict_cyrillic(crop):
    latin = predict(crop.image)
    cyr = predict(crop.image, alphabet="cyrillic")
    assert cyr.text == to_cyrillic(latin.text)
    assert (cyr.plate_type, cyr.valid, cyr.confidence) == (latin.plate_type, latin.valid, latin.confidence)


def test_predict_flags_low_confidence_without_dropping(test_crops):
    images = [s.image for s in test_crops[:5]]
    assert not any(r.flagged for r in predict(images, min_confidence=0.0))
    strict = predict(images, min_confidence=1.0)
    assert len(strict) == 5 and all(r.flagged == (r.confidence < 1.0) for r in strict)


def test_predict_decoders_agree_on_clean_crops(test_crops):
    images = [s.image for s in test_crops]
    by = {d: [r.text for r in predict(images, decoder=d)] for d in ("greedy", "beam", "format")}
    assert sum(a != b for a, b in zip(by["greedy"], by["format"])) <= 2
    assert by["greedy"] == by["beam"]


@pytest.mark.parametrize("kwargs, error", [
    ({"alphabet": "greek"}, ValueError), ({"decoder": "viterbi"}, ValueError),
    ({"min_confidence": 1.5}, ValueError), ({"batch_size": 0}, ValueError),
    ({"backend": "tf"}, ValueError),
    ({"weights": "/no/such/checkpoint.pth"}, FileNotFoundError), ({"weights": 0}, TypeError)])
def test_predict_rejects_bad_options(crop, kwargs, error):
    with pytest.raises(error):
        predict(crop.image, **kwargs)


def test_predict_onnx_backend_reads_like_torch(test_crops):
    pytest.importorskip("onnxruntime")
    greys = [s.image for s in test_crops[:8]]
    for a, b in zip(predict(greys, backend="onnx"), predict(greys)):
        assert a.text == b.text
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)


def test_int8_checkpoint_without_an_onnx_graph_runs_fx_and_refuses_onnx(crop, tmp_path):
    pytest.importorskip("onnxruntime")
    from anpr_ocr.reader.loader import reader_backend
    from anpr_ocr.reader.quantize import quantize_fx, save_quantized

    path = tmp_path / "int8.pth"
    model = load_reader(backend="torch").model  # FX quantizes the PyTorch model
    save_quantized(quantize_fx(model, [crop.image], onnx=False), model.config, path)
    assert reader_backend(path) == "torch"  # "auto" has nothing else to run
    with pytest.raises(CheckpointError, match="int8.pth"):
        predict(crop.image, weights=path, backend="onnx")


def test_committed_int8_backends_read_like_fp32(test_crops):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")  # "auto" exports the FP32 checkpoint
    from anpr_ocr.core.cpu import int8_backend
    from anpr_ocr.reader.loader import reader_backend

    int8 = DEFAULT_WEIGHTS.with_name("crnn_ocr_model_int8_fx.pth")
    greys = [s.image for s in test_crops[:16]]
    fp32 = predict(greys, decoder="greedy")
    for backend in ("torch", "onnx"):
        assert reader_backend(int8, backend) == backend
        readings = predict(greys, weights=int8, decoder="greedy", backend=backend)
        assert sum(a.text != b.text for a, b in zip(readings, fp32)) <= 1
        assert max(abs(a.confidence - b.confidence) for a, b in zip(readings, fp32)) < 0.1
    assert reader_backend(int8) == int8_backend()
    assert reader_backend(DEFAULT_WEIGHTS) == "onnx"  # FP32 runs in ONNX Runtime under "auto" where it can


def test_auto_runs_fp32_in_torch_where_onnx_cannot_export(tmp_path, monkeypatch):
    from anpr_ocr.reader import loader

    fp32 = tmp_path / "fp32.pth"  # a fresh file: not in the loader's cache
    shutil.copy(DEFAULT_WEIGHTS, fp32)
    monkeypatch.setattr(loader, "onnx_export_available", lambda: False)
    assert loader.reader_backend(fp32) == "torch"


def test_onnx_int8_reader_loads_without_building_the_fx_model(test_crops, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from anpr_ocr.reader import loader

    int8 = tmp_path / "int8.pth"  # a fresh file: not in the loader's cache
    shutil.copy(DEFAULT_WEIGHTS.with_name("crnn_ocr_model_int8_fx.pth"), int8)

    def no_fx(*args, **kwargs):
        raise AssertionError("the FX graph was rebuilt for an ONNX Runtime reader")

    monkeypatch.setattr(loader, "load_quantized", no_fx)
    assert predict(test_crops[0].image, weights=int8, backend="onnx").text == test_crops[0].text


def test_predict_uses_the_checkpoint_temperature(crop, tmp_path):
    hot = tmp_path / "hot.pth"
    shutil.copy(DEFAULT_WEIGHTS, hot)
    ckpt = read_checkpoint(hot)
    save_atomic({**ckpt, "temperature": 3.0}, hot)
    assert load_reader(hot).temperature == 3.0
    base = predict(crop.image, decoder="greedy")
    soft = predict(crop.image, weights=hot, decoder="greedy")
    assert soft.text == base.text  # the temperature never changes the greedy reading...
    assert soft.confidence < base.confidence  # ...only how sure it is


def test_predict_refuses_a_bad_stored_temperature(crop, tmp_path):
    import torch

    bad = tmp_path / "bad.pth"
    ckpt = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    ckpt["temperature"] = float("nan")
    torch.save(ckpt, bad)
    with pytest.raises(CheckpointError, match="temperature"):
        predict(crop.image, weights=bad)


# ---- bad input: converted or a clear error that names it ---------------------------------------

def _bad_cases(bad_files):
    return [
        (str(bad_files / "missing.png"), FileNotFoundError, "missing.png"),
        (bad_files / "not_an_image.png", ValueError, "not_an_image.png"),
        (str(bad_files / "truncated.png"), ValueError, "truncated.png"),
        (str(bad_files / "one_pixel.png"), ValueError, "one_pixel.png"),
        (str(bad_files / "empty.png"), ValueError, "empty.png"),
        (str(bad_files), IsADirectoryError, str(bad_files)),
        (np.zeros((0, 40), np.uint8), ValueError, "image"),
        (np.zeros((30, 0, 3), np.uint8), ValueError, "image"),
        (np.zeros((1, 1), np.uint8), ValueError, "image"),
        (np.full((30, 100), np.nan), ValueError, "image"),
        (np.full((30, 100, 3), np.inf, np.float32), ValueError, "image"),
        (np.zeros((30, 100, 2), np.uint8), ValueError, "image"),
        (np.zeros((30, 100), np.complex64), TypeError, "image"),
        (np.zeros((30, 100), object), TypeError, "image"),
        (np.array(3.0), ValueError, "image"),
        (5, TypeError, "image"),
        (None, TypeError, "image"),
        (b"crop.png", TypeError, "image"),
        ({"image": 1}, TypeError, "image"),
    ]


def test_predict_bad_inputs_raise_clear_errors(bad_files):
    for value, error, named in _bad_cases(bad_files):
        with pytest.raises(error) as info:
            predict(value)
        assert named in str(info.value), (value, str(info.value))
        assert isinstance(info.value, ERRORS)


def test_predict_bad_input_in_a_batch_names_its_index(crop, bad_files):
    for value, error, _ in _bad_cases(bad_files):
        with pytest.raises(error, match="image 2"):
            predict([crop.image, crop.image, value])


def test_predict_huge_image_is_quick(tmp_path):
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    huge = rng.integers(0, 255, (16000, 4000), dtype=np.uint8)
    assert isinstance(predict(huge), PlateReading)
    assert isinstance(predict(np.zeros((16000, 4000, 3), np.uint8)), PlateReading)
    path = tmp_path / "huge.png"
    cv2.imwrite(str(path), huge[:, :, None].repeat(3, axis=2)[::2, ::2])  # 8000x2000 colour file
    assert isinstance(predict(path), PlateReading)
    assert time.perf_counter() - start < 15


def test_predict_refuses_oversized_image_files_before_decoding(crop, monkeypatch):
    from anpr_ocr.core import images as preprocess

    monkeypatch.setattr(preprocess, "MAX_FILE_PIXELS", 100)
    with pytest.raises(ValueError, match="too large"):
        predict(crop.source)


def test_calibrate_auto_returns_one_without_errors():
    logits = np.zeros((3, 4, 23))
    logits[:, :, 0] = 5.0
    assert calibrate.fit_temperature(logits, ["", "", ""]) == 1.0


_DTYPES = st.sampled_from([np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64, np.uint32,
                           np.float16, np.float32, np.float64, np.bool_, np.complex64])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(hnp.arrays(dtype=_DTYPES, shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=48)))
def test_predict_random_arrays_read_or_raise_clearly(array):
    try:
        result = predict(array)
    except ERRORS as exc:
        assert "image" in str(exc)
        return
    assert isinstance(result, PlateReading)
    assert 0.0 <= result.confidence <= 1.0


# ---- threads -------------------------------------------------------------------------------------

def test_predict_from_threads_matches_sequential(test_crops):
    images = [s.image for s in test_crops]
    sequential = [predict(im) for im in images]
    batches = [images[i:i + 3] for i in range(0, len(images), 3)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        singles = list(pool.map(predict, images))
        batched = [r for rs in pool.map(predict, batches) for r in rs]
    assert [r.text for r in singles] == [r.text for r in sequential]
    assert [r.text for r in batched] == [r.text for r in sequential]
    for a, b in zip(singles + batched, sequential + sequential):
        assert _same(a, b)


# ---- calibration helpers --------------------------------------------------------------------------

def test_calibrate_ctc_temperature_follows_logit_scale(val_samples):

    logits = frame_logits(load_reader().model, [s.image for s in val_samples])
    truths = [s.text for s in val_samples]
    t1 = calibrate.fit_temperature(logits, truths, objective="ctc")
    t2 = calibrate.fit_temperature(2.0 * logits, truths, objective="ctc")
    assert t1 in calibrate.DEFAULT_GRID
    assert t2 / t1 == pytest.approx(2.0, rel=0.08)  # within a grid step of exact equivariance


def test_calibrate_correct_objective_needs_both_outcomes():
    logits = np.zeros((2, 4, 23))
    logits[:, :, 0] = 5.0  # both read "" (all blank)
    assert calibrate.fit_temperature(logits, ["", ""], objective="correct") == 1.0
    assert calibrate.fit_temperature(logits, ["A1", "A1"], objective="correct") == 1.0
    with pytest.raises(ValueError):
        calibrate.fit_temperature(logits, ["A1"])
    with pytest.raises(ValueError):
        calibrate.fit_temperature(logits, ["", ""], objective="brier")


def test_calibrate_correct_objective_softens_an_overconfident_model():
    # frames say "A" with probability ~0.99 but half the labels are "B": the best T makes
    # the string confidence about 0.5, so it lies above 1
    logits = np.full((10, 3, 23), -8.0)
    logits[:, :, 0] = 0.0
    logits[:, 1, 1 + 10] = 4.6  # class of "A" in the middle frame
    truths = ["A", "B"] * 5
    t = calibrate.fit_temperature(logits, truths, objective="correct")
    texts, conf = calibrate.readings_at(logits, t)
    assert calibrate.readings_at(logits, 1.0)[1].min() > 0.95
    assert t > 1.0 and texts == ["A"] * 10
    assert conf.mean() == pytest.approx(0.5, abs=0.08)


def test_calibrate_reliability_and_coverage_tables():
    conf = [0.95, 0.9, 0.85, 0.6, 0.3, 0.3]
    correct = [True, True, False, True, False, True]
    rows = calibrate.reliability(conf, correct, bins=5)
    assert sum(r["n"] for r in rows) == 6
    assert rows[-1] == {"lo": 0.8, "hi": 1.0, "n": 3, "confidence": pytest.approx(0.9),
                        "accuracy": pytest.approx(2 / 3)}
    curve = calibrate.coverage_curve(conf, correct)
    assert curve[0] == (0.95, pytest.approx(1 / 6), 1.0)
    assert curve[-1] == (0.3, 1.0, pytest.approx(4 / 6))  # the tie at 0.3 is one threshold
    assert len(curve) == 5
    with pytest.raises(ValueError):
        calibrate.reliability([0.5], [True, False])
    with pytest.raises(ValueError):
        calibrate.coverage_curve([1.5], [True])


# ---- the serving path against an independent computation ----------------------------------------

@pytest.mark.parametrize("weights", ["crnn_ocr_model_best.pth", "crnn_ocr_model_int8_fx.pth"])
def test_predict_at_batch_1_equals_an_independent_computation(test_crops, weights):
    """Each reading of `predict` at batch 1 is what the model's logits say, computed here another way:
    the input resized and scaled by hand, log-softmax at the checkpoint's temperature in torch, the
    best path walked by hand, the string's probability from torch's CTC loss, each character's
    confidence the highest probability of its run. The format decoder is `decode` on the same
    probabilities. Each crop read once (`reread_unsure=False`). Equal texts, types and flags; confidences
    within 1e-9."""
    import cv2
    import torch

    from anpr_ocr.core.alphabet import ALPHABET
    from anpr_ocr.core.formats import plate_type
    from anpr_ocr.reader.decode import decode

    path = DEFAULT_WEIGHTS.parent / weights
    if not path.is_file():
        pytest.skip(f"no committed {path}")
    model, temperature, _ = load_reader(path)
    for sample in test_crops:
        grey = sample.image
        area = cv2.INTER_AREA if grey.shape[1] > 128 else cv2.INTER_LINEAR
        x = cv2.resize(grey, (128, 32), interpolation=area).astype(np.float32) / 127.5 - 1.0
        with torch.inference_mode():
            logits = model(torch.from_numpy(x)[None, None]).double()
        log_probs = torch.log_softmax(logits / temperature, dim=-1)[0]  # (T, C)
        probs = log_probs.exp().numpy()
        text, chars, labels, previous = "", [], [], 0
        for t, c in enumerate(probs.argmax(axis=1).tolist()):
            if c != 0 and c != previous:  # a character starts
                text, chars, labels = text + ALPHABET[c - 1], chars + [probs[t, c]], labels + [c]
            elif c != 0:  # its run goes on
                chars[-1] = max(chars[-1], probs[t, c])
            previous = c
        nll = torch.nn.functional.ctc_loss(log_probs[:, None], torch.tensor(labels, dtype=torch.long),
                                           [len(probs)], [len(labels)], reduction="none")
        confidence = float(torch.exp(-nll)[0])

        greedy = predict(grey, weights=path, decoder="greedy", reread_unsure=False)  # one reading of the crop
        kind = plate_type(text)
        assert (greedy.text, greedy.plate_type, greedy.valid, greedy.flagged) == \
            (text, kind, kind is not None, confidence < 0.5)
        assert greedy.confidence == pytest.approx(confidence, abs=1e-9)
        assert greedy.char_confidences == pytest.approx(tuple(chars), abs=1e-9)

        expected = decode(probs[None], "format")[0]
        got = predict(grey, weights=path, reread_unsure=False)  # the second look: tests/test_views.py
        kind = plate_type(expected.text)
        assert (got.text, got.plate_type, got.valid, got.flagged) == \
            (expected.text, kind, kind is not None, expected.confidence < 0.5)
        assert got.confidence == pytest.approx(expected.confidence, abs=1e-9)
        assert got.char_confidences == pytest.approx(expected.char_confidences, abs=1e-9)
