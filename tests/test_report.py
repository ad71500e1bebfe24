"""The README's results come from the JSON files a run wrote, and only from them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anpr_ocr.core.data import Sample
from anpr_ocr.report.tables import README_END, README_START, narrowest_quarter, results_markdown, update_readme


def _write_run(tmp_path):
    weights, figures = tmp_path / "weights", tmp_path / "figures"
    weights.mkdir()
    figures.mkdir()
    card = {"data": "real crops from somewhere", "splits": {"train": 10, "val": 5, "test": 4}, "seed": 7,
            "recipe": "real only",
            "created": "2026-01-01 00:00 UTC", "metrics": {"test": {"exact_match": 0.75, "cer": 0.03125}}}
    (weights / "crnn_ocr_model_best.json").write_text(json.dumps(card))
    rows = [{"recipe": "real only", "epochs": "1 real", "val_exact_match": 0.2, "val_cer": 0.5,
             "test_exact_match": 0.25, "test_cer": 0.4, "wall_minutes": 1.5}]
    (figures / "recipes.json").write_text(json.dumps({"data": card["data"], "rows": rows}))
    return weights, figures


def test_results_markdown_reads_the_files(tmp_path):
    weights, figures = _write_run(tmp_path)
    text = results_markdown(weights, figures)
    assert "real crops from somewhere (train 10, val 5, test 4); seed 7" in text
    assert "| real only | 1 real | 20.00% | 50.00% | 25.00% | 40.00% | 1.5 |" in text
    # 1 of 4 test crops: Wilson 95% interval 4.6%-69.9% (scipy's binomtest agrees)
    assert ("real only's 25.00% is 1 of 4 crops, with a 95% (Wilson) interval of 4.6% to 69.9%; "
            "one plate is 25.00 pp.") in text


def test_results_markdown_marks_a_model_trained_on_val_and_reads_the_crossvalidation(tmp_path):
    weights, figures = _write_run(tmp_path)
    rows = [{"recipe": "kept", "epochs": "2 real", "val_exact_match": None, "val_cer": None, "test_exact_match": 0.75,
             "test_cer": 0.03125, "wall_minutes": 2.0}]
    (figures / "recipes.json").write_text(json.dumps({"data": "x", "rows": rows}))
    summary = {"recipe": "kept", "folds": 5, "n": 1143, "seeds": 2, "exact_match_read": 0.97375,
               "exact_match_read_sd_folds": 0.0125, "cer_read": 0.00444}
    trade = {"threshold": 0.61234, "coverage": 0.95, "flagged": 0.05, "accuracy": 0.995, "kept": 1086}
    (figures / "crossval.json").write_text(json.dumps({"kept": "kept", "rows": [summary], "coverage": trade}))
    text = results_markdown(weights, figures)
    assert "| kept | 2 real | — | — | 75.00% | 3.12% | 2.0 |" in text
    assert ("Cross-validated over the 1143 train + val crops (5 folds, 2 seed(s); `figures/crossval.json`) and read "
            "out of fold by `predict`'s decoder, the kept recipe reads 97.38% exactly (sd over folds 1.25 pp), CER "
            "0.44%. With the 5.0% least confident readings flagged (confidence below 0.612), the rest read 99.50% "
            "exactly.") in text


def test_results_markdown_reads_the_photo_measures(tmp_path):
    weights, figures = _write_run(tmp_path)
    test = {"photos": 100, "plates": 102, "found_rate": 98 / 102, "read_rate": 95 / 102, "extra_per_photo": 0.03}
    (figures / "detect_metrics.json").write_text(json.dumps({"metrics": {"test": test},
                                                             "speed": {"array_median_ms": 15.56, "threads": 2}}))
    assert ("on 100 test photos `read_plates` found 96.1% of 102 plates, read 93.1% exactly, 0.03 extra readings a "
            "photo, 15.6 ms a photo (median, 2 threads).") in results_markdown(weights, figures)
    test["reported_rate"] = 97 / 102  # cards from today on count the plates with a reported reading
    (figures / "detect_metrics.json").write_text(json.dumps({"metrics": {"test": test},
                                                             "speed": {"array_median_ms": 15.56, "threads": 2}}))
    assert ("`read_plates` found 96.1% of 102 plates, reported a reading for 95.1%, read 93.1% exactly, "
            "0.03 extra") in results_markdown(weights, figures)


def test_results_markdown_states_what_predict_reads(tmp_path):
    weights, figures = _write_run(tmp_path)
    card = json.loads((weights / "crnn_ocr_model_best.json").read_text())
    assert "As `predict` reads" not in results_markdown(weights, figures)  # cards written before the field
    card["predict_metrics"] = {"decoder": "format", "test": {"exact_match": 1.0, "cer": 0.0}}
    (weights / "crnn_ocr_model_best.json").write_text(json.dumps(card))
    (weights / "crnn_ocr_model_int8_fx.json").write_text(json.dumps(
        {"metrics": {"test": {"exact_match": 0.5, "cer": 0.0625}},
         "predict_metrics": {"decoder": "format", "test": {"exact_match": 0.75, "cer": 1 / 32}}}))
    # 4 of 4: Wilson 95% interval 51.0%-100% (scipy's binomtest agrees)
    assert ("As `predict` reads by default (format decoder, calibrated temperature), the committed FP32 model reads "
            "100.00% of the test crops exactly (4 of 4; 95% Wilson interval 51.0% to 100.0%), CER 0.00%; FX INT8 "
            "75.00%, CER 3.12%. The tables decode greedily.") in results_markdown(weights, figures)


def test_results_markdown_reads_cards_whose_metrics_are_what_predict_reads(tmp_path):
    weights, figures = _write_run(tmp_path)
    card = json.loads((weights / "crnn_ocr_model_best.json").read_text())
    card["metrics"]["test"].update(decoder="format", greedy_exact_match=0.5)
    (weights / "crnn_ocr_model_best.json").write_text(json.dumps(card))
    (weights / "crnn_ocr_model_int8_fx.json").write_text(json.dumps(
        {"metrics": {"test": {"decoder": "format", "exact_match": 0.5, "cer": 0.0625, "greedy_exact_match": 0.25}}}))
    # 3 of 4: Wilson 95% interval 30.1%-95.4% (scipy's binomtest agrees)
    assert ("As `predict` reads by default (format decoder, calibrated temperature), the committed FP32 model reads "
            "75.00% of the test crops exactly (3 of 4; 95% Wilson interval 30.1% to 95.4%), CER 3.12%; FX INT8 "
            "50.00%, CER 6.25%. Greedy decoding reads 50.00%; every exact match here is what `predict` reads."
            ) in results_markdown(weights, figures)
    (weights / "crnn_ocr_model_int8_fx.json").write_text(json.dumps({"metrics": {"test": {
        "decoder": "format", "model": "int8_onnx", "exact_match": 0.75, "cer": 1 / 32, "greedy_exact_match": 0.75}}}))
    assert "CER 3.12%; ONNX Runtime INT8 75.00%, CER 3.12%. Greedy" in results_markdown(weights, figures)


def test_results_markdown_says_when_predict_looks_twice_and_the_recipe_table_read_once(tmp_path):
    weights, figures = _write_run(tmp_path)
    card = json.loads((weights / "crnn_ocr_model_best.json").read_text())
    card["metrics"]["test"].update(decoder="format", greedy_exact_match=0.5, reread_unsure=True)
    card["rescored"] = {"created": "2026-01-02 00:00 UTC"}
    (weights / "crnn_ocr_model_best.json").write_text(json.dumps(card))
    text = results_markdown(weights, figures)
    assert ("As `predict` reads by default (format decoder, calibrated temperature, unsure crops read again from two "
            "more views; scored again 2026-01-02 00:00 UTC), the committed FP32 model reads 75.00%") in text
    assert "Greedy decoding, each crop once, reads 50.00%" in text
    assert "The recipe table is the notebook run's record: it read each crop once" in text
    rows = json.loads((figures / "recipes.json").read_text())
    rows["rows"][0]["reread_unsure"] = True  # a run that read as predict reads now: nothing to say
    (figures / "recipes.json").write_text(json.dumps(rows))
    assert "it read each crop once" not in results_markdown(weights, figures)


def test_results_markdown_without_a_run(tmp_path):
    assert results_markdown(tmp_path, tmp_path) == "_No committed run yet._"


def test_update_readme_replaces_only_the_results_section(tmp_path):
    weights, figures = _write_run(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{README_START}\nold numbers\n{README_END}\n\nrest\n")
    update_readme(readme, weights, figures)
    text = readme.read_text()
    assert "old numbers" not in text
    assert text.startswith("# title\n\n" + README_START) and text.endswith(README_END + "\n\nrest\n")
    assert "25.00%" in text


def test_narrowest_quarter_takes_the_smallest_widths():
    samples = [Sample(np.zeros((10, w), np.uint8), "A123BC77", str(w)) for w in (50, 400, 120, 80, 300, 60, 90, 200)]
    assert [s.source for s in narrowest_quarter(samples)] == ["50", "60"]


def test_update_readme_needs_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers here\n")
    with pytest.raises(ValueError):
        update_readme(readme, tmp_path, tmp_path)
    assert readme.read_text() == "# no markers here\n"


def _bench(fp32_sha: str, int8_sha: str, cpu: str, int8_ms: float) -> dict:
    """A benchmark result as bench.run_benchmark writes it, cut to what the README tables read."""
    timing = lambda ms, speedup: {"2": {"batch1_median_ms": ms, "batch64_plates_per_s": 64 / ms * 10,  # noqa: E731
                                        "speedup_batch1": speedup, "speedup_batch64": 2 * speedup}}
    backends = {"fp32_eager": {"label": "FP32 eager (PyTorch)", "exact_match": 0.9, "cer": 0.01,
                               "file_sha256": fp32_sha, "timing": timing(2.0, 1.0)},
                "int8_fx": {"label": "INT8 FX (PyTorch)", "exact_match": 0.9, "cer": 0.01,
                            "file_sha256": int8_sha, "timing": timing(int8_ms, 2.0 / int8_ms)}}
    through = {"batch1_median_ms": int8_ms + 0.5, "adds_batch1_ms": 0.5, "batch64_plates_per_s": 1000.0,
               "speedup_batch1": 2.5 / (int8_ms + 0.5), "speedup_batch64": 3.0}
    baseline = {"batch1_median_ms": 2.5, "adds_batch1_ms": 0.5, "batch64_plates_per_s": 333.3,
                "speedup_batch1": 1.0, "speedup_batch64": 1.0}
    return {"backends": backends, "meta": {"threads": [1, 2], "processor": cpu, "date_utc": "2026-01-02T03:04:05Z"},
            "predict": {"threads": 2, "decoders": {d: {"fp32_eager": baseline, "int8_fx": through}
                                                   for d in ("greedy", "format")}}}


def test_results_name_the_benchmarked_cpu_and_no_other_machine(tmp_path):
    weights, figures = _write_run(tmp_path)
    (figures / "benchmark.json").write_text(json.dumps(_bench("a" * 64, "b" * 64, "Cpu One", 1.0)))
    (figures / "benchmark_two.json").write_text(json.dumps(_bench("a" * 64, "b" * 64, "Cpu Two", 0.5)))
    text = results_markdown(weights, figures)
    assert "(`figures/benchmark.json`: Cpu One, 2026-01-02T03:04:05Z)" in text
    assert "Cpu Two" not in text  # other machines' benchmarks belong to docs/experiments.md
    assert "anpr-ocr predict FOLDER" not in text  # an older file: no command table


def test_results_show_the_model_call_split_for_predicts_default_decoder(tmp_path):
    from anpr_ocr.report.tables import format_cli_table

    weights, figures = _write_run(tmp_path)
    result = _bench("a" * 64, "b" * 64, "Cpu One", 1.0)
    result["predict"]["model_call"] = {"fp32_eager": {"batch1_median_ms": 2.0}, "int8_fx": {"batch1_median_ms": 1.0}}
    result["cli"] = {"plates": 1024, "threads": 2, "rows": [
        {"backend": "int8_fx", "decoder": "greedy", "workers": 2, "seconds": 0.5, "plates_per_s": 2048.0},
        {"backend": "int8_fx", "decoder": "greedy", "workers": 0, "seconds": 0.25, "plates_per_s": 4096.0},
        {"backend": "int8_fx", "decoder": "format", "workers": 0, "seconds": 1.0, "plates_per_s": 1024.0}]}
    (figures / "benchmark.json").write_text(json.dumps(result))
    text = results_markdown(weights, figures)
    # INT8 through predict: 1.5 ms at batch 1, of which 1.0 ms the model call and 0.5 ms the rest; the README shows
    # the decoder predict reads with by default, the JSON and the notebook every decoder
    assert "| INT8 FX (PyTorch) | format | 1.50 | 1.00 | 0.50 | 1000 | 1.67x / 3.00x |" in text
    assert "| greedy |" not in text
    assert "anpr-ocr predict with" not in text  # the command's table is the notebook's and the JSON's
    cli = format_cli_table(result)
    assert "on 1024 crop files" in cli
    assert "| INT8 FX (PyTorch) | greedy | 4096 | 2048 |" in cli
    assert "| INT8 FX (PyTorch) | format | 1024 | - |" in cli  # not measured with 2 workers
