"""FX INT8 quantization and the ONNX backend, on a tiny randomly initialised CRNN (no timings)."""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import numpy as np
import pytest
import torch

from anpr_ocr.core.files import CheckpointError
from anpr_ocr.core.images import batch_tensor, preprocess
from anpr_ocr.reader.checkpoint import load_model, read_checkpoint, save_checkpoint
from anpr_ocr.reader.infer import frame_logits
from anpr_ocr.reader.loader import load_any, load_reader
from anpr_ocr.reader.model import CRNN, CRNNConfig
from anpr_ocr.reader.quantize import KIND, load_quantized, quantize_fx, save_quantized

TINY = CRNNConfig(channels=(8, 8, 8, 8, 8, 8), lstm_hidden=8)


def _model(config=TINY, seed=0) -> CRNN:
    torch.manual_seed(seed)
    model = CRNN(config)
    model.train()
    with torch.no_grad():  # BatchNorm statistics off their defaults
        model(torch.randn(4, 1, config.height, config.width))
    return model.eval()


def _greys(n: int, seed: int = 0) -> list[np.ndarray]:
    """Plate-like grey crops of varied sizes: light background, dark vertical strokes, noise."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        h, w = int(rng.integers(20, 60)), int(rng.integers(80, 220))
        img = np.full((h, w), rng.integers(170, 240), np.float32)
        for x in rng.integers(2, w - 6, size=8):
            img[h // 5:h - h // 5, x:x + int(rng.integers(2, 5))] = rng.integers(10, 80)
        out.append(np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def quantized():
    model = _model()
    return model, quantize_fx(model, _greys(8))


def test_quantized_model_runs_and_tracks_fp32(quantized):
    model, qmodel = quantized
    x = batch_tensor(_greys(3, seed=1))
    with torch.inference_mode():
        ref, out = model(x), qmodel(x)
    assert out.shape == ref.shape == (3, TINY.time_steps, TINY.num_classes)
    assert out.dtype == torch.float32
    assert (out - ref).abs().max() < 0.25 * ref.abs().max() + 0.05
    assert isinstance(qmodel.get_submodule("features.0.0"), torch.ao.nn.intrinsic.quantized.ConvReLU2d)
    assert type(qmodel.rnn) is torch.nn.LSTM  # kept float on purpose, see anpr_ocr.reader.quantize


def test_activations_use_8_bits_and_weights_7(quantized):
    _, qmodel = quantized
    convs = [m for m in qmodel.modules() if isinstance(m, torch.ao.nn.quantized.Conv2d)]
    assert convs
    for conv in convs:
        weights = conv.weight().int_repr()
        assert 60 <= weights.abs().max() <= 64  # 255 * 64 * 2 fits the 16-bit sums of non-VNNI kernels
    seen = []
    hook = convs[0].register_forward_hook(lambda module, args, out: seen.append(out.int_repr().max().item()))
    with torch.inference_mode():
        qmodel(batch_tensor(_greys(8)))  # the calibration crops: their largest activation maps to 255, not 127
    hook.remove()
    assert seen and seen[0] > 127


def test_one_quantize_and_one_dequantize_between_convs_and_lstm(quantized):
    _, qmodel = quantized
    calls = [str(n.target) for n in qmodel.graph.nodes if n.op in ("call_function", "call_method")]
    assert sum("quantize_per_tensor" in c for c in calls) == 1  # the input, nothing re-quantized later
    assert calls.count("dequantize") == 1


def test_frozen_model_gives_the_graph_module_numbers_at_any_batch_size(quantized, tmp_path):
    _, qmodel = quantized
    path = tmp_path / "int8.pth"
    save_quantized(qmodel, TINY, path)
    frozen, graph = load_quantized(path), load_quantized(path, frozen=False)
    assert isinstance(frozen, torch.jit.ScriptModule) and isinstance(graph, torch.fx.GraphModule)
    with torch.inference_mode():
        for n in (1, 7):
            x = batch_tensor(_greys(n, seed=n))
            assert torch.equal(frozen(x), graph(x)) and torch.equal(frozen(x), qmodel(x))


def test_quantize_fx_leaves_the_fp32_model_alone(quantized):
    model, _ = quantized
    assert isinstance(model.features[0][0], torch.nn.Conv2d) and isinstance(model.features[0][1], torch.nn.BatchNorm2d)


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")  # torch.load of quantized tensors
def test_save_load_round_trip_identical(quantized, tmp_path):
    model, qmodel = quantized
    path = tmp_path / "int8.pth"
    save_quantized(qmodel, TINY, path, calibration="synthetic")
    ckpt = read_checkpoint(path)
    assert ckpt["kind"] == KIND and ckpt["calibration"] == "synthetic"
    assert {"format_version", "kind", "config", "alphabet", "input_size", "state_dict"} <= set(ckpt)
    loaded = load_quantized(path)
    assert not load_quantized(path, frozen=False).training
    x = batch_tensor(_greys(5, seed=2))
    with torch.inference_mode():
        assert torch.equal(qmodel(x), loaded(x))


def test_predict_dispatches_to_int8(quantized, tmp_path):
    from anpr_ocr.reader.predict import predict

    _, qmodel = quantized
    path = tmp_path / "int8.pth"
    save_quantized(qmodel, TINY, path)
    readings = predict(_greys(2, seed=3), weights=path)
    assert len(readings) == 2 and all(0.0 <= r.confidence <= 1.0 for r in readings)


def test_load_quantized_rejects_fp32_checkpoint(tmp_path):
    path = tmp_path / "fp32.pth"
    save_checkpoint(_model(), path)
    with pytest.raises(CheckpointError, match="fp32.pth"):
        load_quantized(path)


def test_load_quantized_rejects_weights_that_do_not_fit(quantized, tmp_path):
    _, qmodel = quantized
    path = tmp_path / "bad_int8.pth"
    save_quantized(qmodel, CRNNConfig(channels=(8, 8, 8, 8, 8, 16), lstm_hidden=8), path)  # config lies
    with pytest.raises(CheckpointError, match="bad_int8.pth"):
        load_quantized(path)


def test_load_any_reads_fp32_and_int8_files_as_their_own_loaders_do(quantized, tmp_path, recwarn):
    model, qmodel = quantized
    fp32, int8, other = tmp_path / "fp32.pth", tmp_path / "int8.pth", tmp_path / "other.pth"
    save_checkpoint(model, fp32, temperature=1.5)
    save_quantized(qmodel, TINY, int8, temperature=0.8)
    save_checkpoint(model, other, kind="int4")
    x = batch_tensor(_greys(3, seed=4))
    for path, loader, temperature in ((fp32, load_model, 1.5), (int8, load_quantized, 0.8)):
        loaded, ckpt = load_any(path)
        assert ckpt["temperature"] == temperature
        with torch.inference_mode():
            assert torch.equal(loaded(x), loader(path)(x))
    assert not [w for w in recwarn if "deprecat" in str(w.message).lower()]  # FX's notices stay silenced
    with pytest.raises(CheckpointError, match="other.pth"):
        load_any(other)


def test_real_crops_quantize_close_to_fp32(val_samples):
    """On real crops a random tiny model's INT8 logits stay close to FP32 (calibrated on other crops)."""
    model = _model()
    greys = [s.image for s in val_samples[:24]]
    qmodel = quantize_fx(model, greys[:16])
    x = batch_tensor(greys[16:])
    with torch.inference_mode():
        ref, out = model(x), qmodel(x)
    assert (out - ref).abs().max() < 0.25 * ref.abs().max() + 0.05


def test_onnx_export_matches_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    from anpr_ocr.reader.onnx_backend import OnnxReader, export_onnx, quantize_onnx

    model = _model()
    path = tmp_path / "tiny.onnx"
    diff = export_onnx(model, path)
    assert diff is not None and diff < 1e-4
    x = batch_tensor(_greys(5, seed=4))  # batch 5: the batch axis is dynamic
    with torch.inference_mode():
        ref = model(x)
    out = OnnxReader(path, threads=1)(x)
    assert out.shape == ref.shape and torch.allclose(out, ref, atol=1e-4)
    int8 = quantize_onnx(path, tmp_path / "tiny_int8.onnx", _greys(8))
    out8 = OnnxReader(int8, threads=1)(x)
    assert out8.shape == ref.shape and torch.isfinite(out8).all()


def test_onnx_calibration_by_percentile_clips_what_minmax_keeps(tmp_path):
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from anpr_ocr.reader.onnx_backend import export_onnx, quantize_onnx

    path = tmp_path / "tiny.onnx"
    export_onnx(_model(), path, check=False)

    def activation_scales(graph) -> dict[str, float]:  # per tensor: one scale per QuantizeLinear input
        model = onnx.load(str(graph))
        inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        return {n.input[0]: float(inits[n.input[1]]) for n in model.graph.node
                if n.op_type == "QuantizeLinear" and inits[n.input[1]].size == 1}

    greys = _greys(61)  # not a multiple of a batch size: the histogram calibrator stacks runs of one crop
    minmax = activation_scales(quantize_onnx(path, tmp_path / "minmax.onnx", greys, method="MinMax", lstm="float"))
    percentile = activation_scales(quantize_onnx(path, tmp_path / "pct.onnx", greys, lstm="float"))
    assert minmax.keys() == percentile.keys() and len(minmax) >= 3
    assert all(percentile[name] <= minmax[name] * (1 + 1e-6) for name in minmax)
    assert any(percentile[name] < 0.99 * minmax[name] for name in minmax)
    with pytest.raises(ValueError, match="Entropy"):
        quantize_onnx(path, tmp_path / "bad.onnx", greys, method="Entropy")


def test_int8_checkpoint_carries_an_onnx_graph_that_tracks_fp32(quantized, tmp_path):
    pytest.importorskip("onnxruntime")
    from anpr_ocr.reader.onnx_backend import FLOAT_NODES, OnnxReader
    from anpr_ocr.reader.quantize import onnx_int8_graph

    model, qmodel = quantized
    path = tmp_path / "int8.pth"
    save_quantized(qmodel, TINY, path)
    ckpt = read_checkpoint(path)  # weights-only, like every load
    graph = onnx_int8_graph(ckpt)
    assert graph is not None and ckpt["quantization"]["onnx_int8"]["float_nodes"] == list(FLOAT_NODES)
    assert "reduce_range" in ckpt["quantization"]["onnx_int8"]["weights"]
    ops = {node.op_type for node in pytest.importorskip("onnx").load_from_string(graph).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops  # the LSTM runs in INT8, as the card says
    x = batch_tensor(_greys(5, seed=7))
    with torch.inference_mode():
        ref = model(x)
    out = OnnxReader(graph, threads=1)(x)
    assert out.shape == ref.shape
    assert (out - ref).abs().max() < 0.25 * ref.abs().max() + 0.05
    plain = tmp_path / "fx_only.pth"
    save_quantized(quantize_fx(model, _greys(8), onnx=False), TINY, plain)
    assert onnx_int8_graph(read_checkpoint(plain)) is None and "onnx_int8" not in read_checkpoint(plain)["quantization"]


def test_a_reader_made_at_48_px_reads_its_crops_at_48_px_in_every_backend(tmp_path):
    config = replace(TINY, height=48)
    model = _model(config)
    fp32, int8 = tmp_path / "fp32.pth", tmp_path / "int8.pth"
    save_checkpoint(model, fp32)
    save_quantized(quantize_fx(model, _greys(8)), config, int8)
    greys = _greys(3, seed=5)
    x = torch.from_numpy(np.stack([preprocess(g, 48, 128) for g in greys]))  # each crop as the model was made for
    with torch.inference_mode():
        expected = model(x).numpy()
        expected_int8 = load_quantized(int8, frozen=False)(x).numpy()
    backends = ["torch"] + (["onnx"] if importlib.util.find_spec("onnxruntime") else [])
    for backend in backends:
        for path in (fp32, int8):
            reader = load_reader(path, backend)
            assert reader.model.input_size == (48, 128), (path.name, backend)
            logits = frame_logits(reader.model, greys)
            if path == int8 and backend == "onnx":  # ONNX Runtime's own INT8 graph: near FP32, as in the test above
                assert np.abs(logits - expected).max() < 0.25 * np.abs(expected).max() + 0.05
            else:
                reference = expected_int8 if path == int8 else expected
                np.testing.assert_allclose(logits, reference, atol=1e-4, err_msg=f"{path.name} {backend}")
