"""The detector's ONNX Runtime backend: the exported FP32 net gives torch's heatmaps and features on real photos of
different sizes, the INT8 graph a checkpoint carries is what runs and finds what FP32 finds, read_plates reads alike
with either backend, and "auto" / "onnx" without the onnx extra."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch

from anpr_ocr.core.files import save_atomic
from anpr_ocr.detector.checkpoint import (
    detector_backend,
    detector_threshold,
    int8_graph,
    load_plate_detector,
    read_detector,
    set_threshold,
)
from anpr_ocr.detector.net import DetectorConfig, PlateDetector, detect_batch, letterbox, to_tensor
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import DEFAULT_DETECTOR, read_plates
from anpr_ocr.reader.loader import default_photo_weights

needs_detector = pytest.mark.skipif(not DEFAULT_DETECTOR.is_file(), reason="no committed detector")


def _needs_onnx() -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def val_photos(photos_root):
    """Four val photos of different sizes, so that they letterbox to different input shapes."""
    photos, shapes = [], set()
    for photo in load_photos(photos_root / "val"):
        shape = letterbox(photo.grey, DetectorConfig().input_size).image.shape
        if shape not in shapes:
            shapes.add(shape)
            photos.append(photo)
        if len(photos) == 4:
            return photos
    return photos


@pytest.fixture(scope="module")
def fp32_detector(tmp_path_factory):
    """The committed detector's checkpoint without its INT8 graph: ONNX Runtime then runs its FP32 net."""
    ckpt = read_detector(DEFAULT_DETECTOR)
    ckpt.pop("onnx_int8", None)
    ckpt.pop("int8", None)
    path = tmp_path_factory.mktemp("fp32") / "plate_detector.pth"
    save_atomic(ckpt, path)
    return path


def test_any_input_size_gives_the_torch_shapes():
    """Dynamic height and width: one export runs every multiple of 32, as torch does."""
    _needs_onnx()
    from anpr_ocr.detector.net import fuse_for_inference
    from anpr_ocr.detector.onnx_backend import onnx_detector

    torch.manual_seed(0)
    model = fuse_for_inference(PlateDetector(DetectorConfig(input_size=128)))
    runs = onnx_detector(model, threads=1)
    for shape in ((1, 1, 64, 96), (2, 1, 128, 32)):
        x = torch.rand(shape) * 2 - 1
        with torch.inference_mode():
            expected = model.locate(x)
        for got, want in zip(runs.locate(x), expected):
            assert got.shape == want.shape
            assert float((got - want).abs().max()) < 1e-4


def test_the_padded_stem_gives_the_same_outputs():
    from anpr_ocr.detector.net import fuse_for_inference
    from anpr_ocr.detector.onnx_backend import padded_stem

    torch.manual_seed(0)
    model = fuse_for_inference(PlateDetector())
    padded = padded_stem(model, 16)
    assert padded.down8[0][0].out_channels == padded.down8[1][0].in_channels == 16
    assert model.down8[0][0].out_channels == DetectorConfig().widths[0] == 8  # the model itself untouched
    assert padded_stem(model, 8).down8[1][0].in_channels == 8  # a block the stem fills: nothing added
    x = torch.rand(2, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        for got, want in zip(padded.locate(x), model.locate(x)):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_the_stem_is_padded_to_the_block_of_this_cpu(monkeypatch):
    import anpr_ocr.detector.onnx_backend as backend
    from anpr_ocr.detector.net import fuse_for_inference

    model = fuse_for_inference(PlateDetector())
    for avx512, block in ((True, 16), (False, 8)):
        monkeypatch.setattr(backend, "cpu_features", lambda avx512=avx512: {"avx512": avx512})
        assert backend.stem_block() == block
        assert backend.padded_stem(model).down8[0][0].out_channels == block


@needs_detector
def test_onnx_heatmaps_and_features_match_torch_on_real_photos(val_photos, fp32_detector):
    _needs_onnx()
    torch_model, _ = load_plate_detector(fp32_detector, "torch")
    onnx_model, _ = load_plate_detector(fp32_detector, "onnx")
    assert type(onnx_model).__name__ == "OnnxDetector" and onnx_model.config == torch_model.config
    assert len({letterbox(p.grey, torch_model.config.input_size).image.shape for p in val_photos}) > 1
    for photo in val_photos:
        x = to_tensor([letterbox(photo.grey, torch_model.config.input_size).image])
        with torch.inference_mode():
            heat, features = torch_model.locate(x)
        onnx_heat, onnx_features = onnx_model.locate(x)
        assert float((torch.sigmoid(onnx_heat) - torch.sigmoid(heat)).abs().max()) < 1e-4
        assert float((onnx_features - features).abs().max()) < 1e-3
    greys = [p.grey for p in val_photos]
    for a, b in zip(detect_batch(torch_model, greys, 0.3), detect_batch(onnx_model, greys, 0.3)):
        assert len(a) == len(b)
        for da, db in zip(a, b):
            np.testing.assert_allclose(db.corners, da.corners, atol=1e-2)
            assert db.score == pytest.approx(da.score, abs=1e-4)


@needs_detector
def test_read_plates_reads_alike_with_either_backend(val_photos, fp32_detector):
    _needs_onnx()
    greys = [p.grey for p in val_photos]
    by_torch = read_plates(greys, backend="torch", detector=fp32_detector)
    by_onnx = read_plates(greys, backend="onnx", detector=fp32_detector)
    assert sum(len(r) for r in by_torch) > 0
    for a, b in zip(by_torch, by_onnx):
        assert [r.text for r in b] == [r.text for r in a]
        for ra, rb in zip(a, b):
            np.testing.assert_allclose(rb.box, ra.box, atol=1e-2)
            assert rb.confidence == pytest.approx(ra.confidence, abs=1e-4)


@needs_detector
def test_the_committed_int8_graph_finds_what_fp32_finds_on_real_photos(val_photos):
    """The committed checkpoint's INT8 graph is what ONNX Runtime runs; against the FP32 net in PyTorch (the
    oracle) its heatmaps differ by quantization steps, not peaks: the same detections, corners within 1.5 px."""
    _needs_onnx()
    assert int8_graph(read_detector(DEFAULT_DETECTOR)) is not None
    torch_model, threshold = load_plate_detector(DEFAULT_DETECTOR, "torch")
    int8_model, _ = load_plate_detector(DEFAULT_DETECTOR, "onnx")
    for photo in val_photos:
        x = to_tensor([letterbox(photo.grey, torch_model.config.input_size).image])
        with torch.inference_mode():
            heat, _ = torch_model.locate(x)
        int8_heat, _ = int8_model.locate(x)
        assert 1e-4 < float((torch.sigmoid(int8_heat) - torch.sigmoid(heat)).abs().max()) < 0.05  # not FP32
    greys = [p.grey for p in val_photos]
    found = 0
    for a, b in zip(detect_batch(torch_model, greys, threshold), detect_batch(int8_model, greys, threshold)):
        assert len(a) == len(b)
        found += len(a)
        for da, db in zip(a, b):
            np.testing.assert_allclose(db.corners, da.corners, atol=1.5)
            assert db.score == pytest.approx(da.score, abs=0.03)
    assert found >= len(val_photos)


@needs_detector
def test_quantize_detector_stores_a_graph_that_onnx_runtime_runs(tmp_path, val_photos, fp32_detector):
    _needs_onnx()
    import onnx

    from anpr_ocr.detector.onnx_backend import OnnxDetector
    from anpr_ocr.detector.quantize import CALIBRATION_METHOD, quantize_detector

    path = tmp_path / "detector.pth"
    shutil.copy(fp32_detector, path)
    with pytest.raises(ValueError, match="at least one calibration photo"):
        quantize_detector(path, [])
    recipe = quantize_detector(path, [p.grey for p in val_photos], photos=2)
    ckpt = read_detector(path)
    assert recipe == ckpt["int8"] and recipe["calibration"] == "2 training photos"
    assert recipe["calibration_method"] == CALIBRATION_METHOD and ckpt["onnx_int8"].dtype == torch.uint8
    graph = onnx.load_from_string(int8_graph(ckpt))
    kinds = {node.op_type for node in graph.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= kinds
    stems = [list(i.dims) for i in graph.graph.initializer if len(i.dims) == 4 and i.dims[1] == 1]  # grey in
    assert [s[0] for s in stems] == [read_detector(fp32_detector)["config"]["widths"][0]]  # as trained, not padded
    x = to_tensor([letterbox(val_photos[0].grey, DetectorConfig().input_size).image])
    runs, (fp32, _) = load_plate_detector(path, "onnx")[0], load_plate_detector(fp32_detector, "onnx")
    stored = OnnxDetector(int8_graph(ckpt), runs, threads=1)
    assert torch.equal(runs.locate(x)[0], stored.locate(x)[0])  # the stored graph is what runs
    assert not torch.equal(runs.locate(x)[0], fp32.locate(x)[0])
    assert isinstance(load_plate_detector(path, "torch")[0], PlateDetector)  # torch runs the FP32 weights
    set_threshold(path, 0.45)  # storing a threshold keeps the graph
    assert detector_threshold(path) == 0.45 and int8_graph(read_detector(path)) == int8_graph(ckpt)


def test_auto_is_onnx_runtime_where_the_extra_is_installed():
    _needs_onnx()
    assert detector_backend("auto") == "onnx"
    assert detector_backend("torch") == "torch" and detector_backend("onnx") == "onnx"
    with pytest.raises(ValueError, match="backend must be one of"):
        detector_backend("tensorrt")


@needs_detector
def test_without_the_extra_auto_runs_torch_and_onnx_names_it(tmp_path, monkeypatch):
    """As in an install without the onnx extra: "auto" falls back to PyTorch without a word, and "onnx"
    raises the reader's ImportError with the install command."""
    for name in ("onnx", "onnxruntime"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` raises ModuleNotFoundError
    detector, reader = tmp_path / "detector.pth", tmp_path / "reader.pth"  # files of their own: the loaders'
    shutil.copy(DEFAULT_DETECTOR, detector)  # caches hold no ONNX Runtime session for them, and keep none made
    shutil.copy(default_photo_weights(), reader)  # here without the extra for the committed files' later callers
    assert detector_backend("auto") == "torch"
    model, _ = load_plate_detector(detector)
    assert isinstance(model, PlateDetector)
    with pytest.raises(ImportError, match=r'pip install "anpr_ocr\[onnx\]"'):
        load_plate_detector(detector, "onnx")
    assert read_plates(np.full((480, 640), 127, np.uint8), weights=reader, detector=detector) == []
