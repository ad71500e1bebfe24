"""The notebook runs top to bottom in fast mode: on the real crops, and on its embedded default."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

papermill = pytest.importorskip("papermill")

REPO = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, data: Path) -> nbformat.NotebookNode:
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(REPO / "ocr_train.ipynb"), str(out), cwd=str(REPO), progress_bar=False,
                               parameters={"FAST": True, "DATA": str(data), "OUT": str(tmp_path / "run")})
    return nbformat.read(out, as_version=4)


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            parts.append(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_notebook_fast_mode_on_real_crops(tmp_path, data_root):
    nb = _run(tmp_path, data_root)
    run = tmp_path / "run"
    for name in ("figures/curves.png", "figures/matrix.png", "figures/robustness.png", "figures/recipes.json",
                 "weights/crnn_ocr_model_best.pth", "weights/crnn_ocr_model_best.json"):
        assert (run / name).is_file(), name
    card = json.loads((run / "weights/crnn_ocr_model_best.json").read_text())
    assert card["data"].startswith("real crops")
    assert 0.0 <= card["metrics"]["test"]["exact_match"] <= 1.0
    assert "EMBEDDED DEFAULT" not in _text(nb)


def test_notebook_without_dataset_says_it_uses_the_embedded_default(tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    nb = _run(tmp_path, empty)
    text = _text(nb)
    assert "EMBEDDED DEFAULT" in text and str(empty) in text
    recipes = json.loads((tmp_path / "run/figures/recipes.json").read_text())
    assert recipes["data"].startswith("EMBEDDED DEFAULT")
