"""The README's results come from the JSON files a run wrote, and only from them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anpr_ocr.data import Sample
from anpr_ocr.report import README_END, README_START, narrowest_quarter, results_markdown, update_readme


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
    assert "real only's 25.00% is 1 of 4 crops, with a 95% (Wilson) interval of 4.6% to 69.9%; one plate is 25.00 pp." in text


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
