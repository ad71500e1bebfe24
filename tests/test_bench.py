"""The benchmark runs end to end on a tiny model and writes what it promises (no timing assertions).

One run of `run_benchmark` (module fixture) is read by focused tests: the JSON, the model-call timings, the
accuracy (checked against `predict` itself), `predict`'s and the command's timings, and the report's tables.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from anpr_ocr.cli.main import main
from anpr_ocr.core import metrics
from anpr_ocr.core.data import Sample
from anpr_ocr.core.files import file_sha256
from anpr_ocr.reader.checkpoint import load_model, read_checkpoint, save_checkpoint
from anpr_ocr.reader.loader import DEFAULT_WEIGHTS
from anpr_ocr.reader.model import CRNN, CRNNConfig
from anpr_ocr.reader.predict import predict
from anpr_ocr.reader.quantize import quantize_fx, save_quantized
from anpr_ocr.report import tables as report
from anpr_ocr.report.plots import plot_benchmark
from anpr_ocr.research import bench

TINY = CRNNConfig(channels=(8, 8, 8, 8, 8, 8), lstm_hidden=8)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    torch.manual_seed(0)
    model = CRNN(TINY).eval()
    rng = np.random.default_rng(0)
    greys = [rng.integers(0, 256, (30, 110), dtype=np.uint8) for _ in range(6)]
    fp32, int8 = folder / "fp32.pth", folder / "int8.pth"
    save_checkpoint(model, fp32, temperature=2.0)  # predict reads at it: so must the benchmark's accuracy
    save_quantized(quantize_fx(model, greys), TINY, int8, temperature=0.5)
    samples = [Sample(g, text, f"crop{i}") for i, (g, text) in
               enumerate(zip(greys[:4], ["A123BC77", "M076HM69", "E005AK197", "P621XO96"]))]
    return fp32, int8, samples, greys[4:]


@pytest.fixture(scope="module")
def benchmark(checkpoints, tmp_path_factory):
    """(result, the JSON as saved, the plot's path)"""
    pytest.importorskip("onnxruntime")
    fp32, int8, samples, calibration = checkpoints
    figures = tmp_path_factory.mktemp("figures")
    result = bench.run_benchmark(fp32, int8, samples, out_json=figures / "benchmark.json", threads=(1,), reps=2,
                                 singles_per_rep=2, batches_per_rep=1, warmup=1, calibration=calibration,
                                 memory=False, cli_main=main, cli_plates=6, cli_workers=(0, 1))
    plot_benchmark(result, figures / "benchmark.png")
    return result, json.loads((figures / "benchmark.json").read_text()), figures / "benchmark.png"


def test_the_json_is_the_result_and_names_the_files_timed(benchmark, checkpoints):
    fp32, int8, *_ = checkpoints
    result, saved, _ = benchmark
    assert saved == json.loads(json.dumps(result))
    assert set(saved["backends"]) == set(bench.BACKENDS)
    for kind, info in saved["backends"].items():
        assert info["label"] == bench.BACKENDS[kind] and info["peak_rss_mb"] is None  # memory=False
        assert info["file_bytes"] > 0
    for kind, path in (("fp32_eager", fp32), ("int8_fx", int8)):  # the ONNX files were in a temporary folder
        assert saved["backends"][kind]["file"] == str(path)
        assert saved["backends"][kind]["file_bytes"] == path.stat().st_size
    # which exact files were timed, so the README lists a benchmark only beside the weights it measured
    assert saved["backends"]["fp32_eager"]["file_sha256"] == file_sha256(fp32)
    assert saved["backends"]["int8_fx"]["file_sha256"] == file_sha256(int8)
    meta = saved["meta"]
    assert meta["n_samples"] == 4 and meta["threads"] == [1] and meta["reps"] == 2 and meta["calibration_images"] == 2
    assert set(meta["other_processes_cpus_busy"]) == {"1"}
    assert meta["onnx_max_abs_logit_diff"] < 1e-4


def test_the_int8_default_here_is_marked_and_its_cpu_recorded(benchmark):
    """The INT8 checkpoint's own ONNX Runtime graph is timed, and the row predict(backend="auto") runs is marked."""
    from anpr_ocr.core.cpu import cpu_features, int8_backend

    result, saved, _ = benchmark
    rows = report.table_rows(result)
    assert saved["meta"]["ort_int8_source"] == "int8 checkpoint"
    assert saved["meta"]["cpu"] == cpu_features() and saved["meta"]["int8_default"] == bench.INT8_KINDS[int8_backend()]
    assert sum("(INT8 default here)" in r[0] for r in rows) == 1
    assert cpu_features()["isa"] in report.machine_row(result)[0]


def test_accuracy_is_what_predict_reads(benchmark, checkpoints):
    """Each checkpoint's exact match and CER are those of predict's readings at its stored temperature; the
    greedy column those of predict(decoder="greedy"). The oracle is predict itself."""
    fp32, int8, samples, _ = checkpoints
    _, saved, _ = benchmark
    truths = [s.text for s in samples]
    for kind, path in (("fp32_eager", fp32), ("int8_fx", int8)):
        read = [r.text for r in predict([s.image for s in samples], weights=path)]
        greedy = [r.text for r in predict([s.image for s in samples], weights=path, decoder="greedy")]
        info = saved["backends"][kind]
        assert info["exact_match"] == metrics.exact_match(truths, read)
        assert info["cer"] == pytest.approx(metrics.cer(truths, read))
        assert info["greedy_exact_match"] == metrics.exact_match(truths, greedy)


def test_model_call_timings_per_backend(benchmark):
    result, saved, _ = benchmark
    for info in saved["backends"].values():
        t = info["timing"]["1"]
        assert t["batch1_p90_ms"] >= t["batch1_median_ms"] > 0
        assert t["batch64_plates_per_s"] == pytest.approx(bench.THROUGHPUT_BATCH / t["batch64_median_ms"] * 1e3)
    fp32 = saved["backends"]["fp32_eager"]["timing"]["1"]
    assert fp32["speedup_batch1"] == pytest.approx(1.0) and fp32["speedup_batch64"] == pytest.approx(1.0)
    for info in saved["backends"].values():  # speed-ups are ratios to FP32 eager's medians
        t = info["timing"]["1"]
        assert t["speedup_batch1"] == pytest.approx(fp32["batch1_median_ms"] / t["batch1_median_ms"])
    int8 = saved["backends"]["int8_fx"]["timing"]["1"]
    assert report.machine_row(result)[2:4] == (f"{int8['batch1_median_ms']:.2f}", f"{int8['batch64_plates_per_s']:.0f}")


def test_predict_timings_split_the_model_call_from_the_rest(benchmark):
    result, saved, _ = benchmark
    through = saved["predict"]
    assert through["threads"] == 1 and list(through["decoders"]) == ["greedy", "format"]
    assert set(through["model_call"]) == {"fp32_eager", "int8_fx", "ort_fp32", "ort_int8"}
    for per_kind in through["decoders"].values():
        assert set(per_kind) == {"fp32_eager", "int8_fx", "ort_fp32", "ort_int8"}
        assert per_kind["fp32_eager"]["speedup_batch64"] == pytest.approx(1.0)
        for kind, t in per_kind.items():  # what predict adds = its median minus the bare model call's
            assert t["batch1_median_ms"] > 0 and t["batch64_plates_per_s"] > 0
            assert t["adds_batch1_ms"] == pytest.approx(t["batch1_median_ms"]
                                                        - through["model_call"][kind]["batch1_median_ms"])
    rows = report.predict_rows(result)
    assert len(rows) == 8 and all(len(r) == len(report.PREDICT_HEADER) for r in rows)
    for row in rows:  # batch-1 ms = the model call + the rest, each rounded to 0.01 ms
        assert float(row[2]) == pytest.approx(float(row[3]) + float(row[4]), abs=0.011)
    assert "via backend='onnx'" in report.format_predict_table(result)


def test_the_command_is_timed_on_a_folder_of_crop_files(benchmark):
    result, saved, _ = benchmark
    cli = saved["cli"]
    assert cli["plates"] == 6 and cli["threads"] == 1
    assert [(r["backend"], r["decoder"], r["workers"]) for r in cli["rows"]] == [
        (kind, decoder, workers) for kind in ("fp32_eager", "int8_fx") for decoder in ("greedy", "format")
        for workers in (0, 1)]
    assert all(r["plates_per_s"] == pytest.approx(6 / r["seconds"]) for r in cli["rows"])
    header, rows = report.cli_table(result)
    assert header[2:] == ("plates/s, 0 decoding workers", "plates/s, 1 decoding workers") and len(rows) == 4
    assert "on 6 crop files" in report.format_cli_table(result)


def test_an_int8_checkpoint_without_an_onnx_graph_gets_one_quantized_here(checkpoints, tmp_path):
    """ONNX Runtime INT8 is then timed as a model only: predict(backend="onnx") cannot run that checkpoint."""
    pytest.importorskip("onnxruntime")
    fp32, _, samples, calibration = checkpoints
    int8 = tmp_path / "fx_only.pth"
    save_quantized(quantize_fx(load_model(fp32), calibration, onnx=False), TINY, int8)
    result = bench.run_benchmark(fp32, int8, samples, out_json=None, threads=(1,), reps=1, singles_per_rep=1,
                                 batches_per_rep=1, warmup=0, calibration=calibration, memory=False)
    assert set(result["backends"]) == set(bench.BACKENDS)
    assert result["meta"]["ort_int8_source"] == "quantized here" and result["meta"]["int8_default"] == "int8_fx"
    for per_kind in result["predict"]["decoders"].values():
        assert set(per_kind) == {"fp32_eager", "int8_fx", "ort_fp32"}



def test_the_tables_and_plot_show_each_backend(benchmark):
    result, saved, png = benchmark
    rows = report.table_rows(result)
    labels = [r[0].replace(" (INT8 default here)", "") for r in rows]
    assert labels == [info["label"] for info in saved["backends"].values()]
    for row, info in zip(rows, saved["backends"].values()):
        assert row[1:3] == (f"{info['exact_match']:.2%}", f"{info['cer']:.2%}")
    assert "INT8 FX" in report.format_table(result)
    assert png.is_file() and png.stat().st_size > 0


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason=f"no committed weights at {DEFAULT_WEIGHTS}")
def test_peak_memory_holds_at_least_the_weights_and_the_largest_activation():
    """Loading the committed model and running a batch of 64 keeps its weights and, at some moment, its largest
    layer output resident: the probe's peak is at least their sum, computed here from the model itself."""
    weights = sum(t.numel() * t.element_size() for t in read_checkpoint(DEFAULT_WEIGHTS)["state_dict"].values())
    model, sizes = load_model(DEFAULT_WEIGHTS), []
    for layer in (m for m in model.modules() if not list(m.children())):
        layer.register_forward_hook(lambda m, i, o: sizes.append(o.numel() * o.element_size())
                                    if torch.is_tensor(o) else None)
    with torch.inference_mode():
        model(torch.zeros(bench.THROUGHPUT_BATCH, 1, 32, 128))
    mb = bench.peak_memory_mb("fp32_eager", DEFAULT_WEIGHTS, threads=1)
    assert mb is not None and mb >= (weights + max(sizes)) / 2**20
