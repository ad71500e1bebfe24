"""The benchmark runs end to end on a tiny model and writes what it promises (no timing assertions)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from anpr_ocr.cli.main import main
from anpr_ocr.core.data import Sample
from anpr_ocr.core.files import file_sha256
from anpr_ocr.reader.checkpoint import load_model, save_checkpoint
from anpr_ocr.reader.model import CRNN, CRNNConfig
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
    save_checkpoint(model, fp32)
    save_quantized(quantize_fx(model, greys), TINY, int8)
    samples = [Sample(g, text, f"crop{i}") for i, (g, text) in
               enumerate(zip(greys[:4], ["A123BC77", "M076HM69", "E005AK197", "P621XO96"]))]
    return fp32, int8, samples, greys[4:]


def test_run_benchmark_writes_json_and_plot(checkpoints, tmp_path):
    pytest.importorskip("onnxruntime")
    fp32, int8, samples, calibration = checkpoints
    out = tmp_path / "figures" / "benchmark.json"
    png = tmp_path / "figures" / "benchmark.png"
    result = bench.run_benchmark(fp32, int8, samples, out_json=out, threads=(1,), reps=2, singles_per_rep=2,
                                 batches_per_rep=1, warmup=1, calibration=calibration, memory=False, cli_main=main,
                                 cli_plates=6, cli_workers=(0, 1))
    plot_benchmark(result, png)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved["backends"]) == set(bench.BACKENDS)
    for info in saved["backends"].values():
        assert {"label", "file", "file_bytes", "exact_match", "cer", "peak_rss_mb", "timing"} <= set(info)
        t = info["timing"]["1"]
        assert {"batch1_median_ms", "batch1_p90_ms", "batch64_plates_per_s", "speedup_batch1",
                "speedup_batch64"} <= set(t)
        assert t["batch1_p90_ms"] >= t["batch1_median_ms"] > 0 and 0 <= info["exact_match"] <= 1
    assert saved["backends"]["fp32_eager"]["timing"]["1"]["speedup_batch1"] == pytest.approx(1.0)
    # which exact files were timed, so the README lists a benchmark only beside the weights it measured
    assert saved["backends"]["fp32_eager"]["file_sha256"] == file_sha256(fp32)
    assert saved["backends"]["int8_fx"]["file_sha256"] == file_sha256(int8)
    assert report.machine_row(result)[2] == f"{saved['backends']['int8_fx']['timing']['1']['batch1_median_ms']:.2f}"
    assert set(saved["meta"]["other_processes_cpus_busy"]) == {"1"}
    assert saved["meta"]["n_samples"] == 4 and saved["meta"]["onnx_max_abs_logit_diff"] < 1e-4
    assert png.is_file() and png.stat().st_size > 0
    rows = report.table_rows(result)
    assert len(rows) == 4 and all(len(r) == len(report.TABLE_HEADER) for r in rows)
    assert "INT8 FX" in report.format_table(result)
    # the INT8 checkpoint's own ONNX Runtime graph is timed, and the row predict(backend="auto") runs is marked
    from anpr_ocr.core.cpu import cpu_features, int8_backend

    assert saved["meta"]["ort_int8_source"] == "int8 checkpoint"
    assert saved["meta"]["cpu"] == cpu_features() and saved["meta"]["int8_default"] == bench.INT8_KINDS[int8_backend()]
    assert sum("(INT8 default here)" in r[0] for r in rows) == 1
    assert cpu_features()["isa"] in report.machine_row(result)[0]
    through = saved["predict"]
    assert through["threads"] == 1 and list(through["decoders"]) == ["greedy", "format"]
    for per_kind in through["decoders"].values():
        assert set(per_kind) == {"fp32_eager", "int8_fx", "ort_fp32", "ort_int8"}
        assert per_kind["fp32_eager"]["speedup_batch64"] == pytest.approx(1.0)
        assert all(t["batch1_median_ms"] > 0 and t["batch64_plates_per_s"] > 0 for t in per_kind.values())
        for kind, t in per_kind.items():  # what predict adds = its median minus the bare model call's
            model = through["model_call"][kind]["batch1_median_ms"]
            assert t["adds_batch1_ms"] == pytest.approx(t["batch1_median_ms"] - model)
    assert set(through["model_call"]) == {"fp32_eager", "int8_fx", "ort_fp32", "ort_int8"}
    predict_rows = report.predict_rows(result)
    assert len(predict_rows) == 8 and all(len(r) == len(report.PREDICT_HEADER) for r in predict_rows)
    for row in predict_rows:  # batch-1 ms = the model call + the rest, each rounded to 0.01 ms
        assert float(row[2]) == pytest.approx(float(row[3]) + float(row[4]), abs=0.011)
    assert "via backend='onnx'" in report.format_predict_table(result)
    # the command on a folder of 6 crop files: both checkpoints, both decoders, 0 and 1 workers
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


def test_peak_memory_probe_measures_a_subprocess(checkpoints):
    fp32, *_ = checkpoints
    mb = bench._peak_memory_mb("fp32_eager", fp32, threads=1)
    assert mb is not None and mb >= 0

