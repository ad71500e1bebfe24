"""The notebook runs top to bottom in fast mode: on the real crops, and on its embedded default.

Neither run may touch the committed weights/, figures/ or README: a fast run writes under OUT/runs/fast,
an embedded-default run under OUT/runs/embedded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest

papermill = pytest.importorskip("papermill")

REPO = Path(__file__).resolve().parents[1]
COMMITTED = ("weights", "figures", "README.md")


def _run(notebook: Path, out_nb: Path, cwd: Path, **parameters) -> nbformat.NotebookNode:
    papermill.execute_notebook(str(notebook), str(out_nb), cwd=str(cwd), progress_bar=False,
                               parameters={"FAST": True, **parameters})
    return nbformat.read(out_nb, as_version=4)


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            parts.append(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every file of the committed outputs under root (weights/, figures/, README.md)."""
    files = [p for name in COMMITTED for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
             if p.is_file()]
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_notebook_fast_mode_on_real_crops(tmp_path, data_root):
    before = _fingerprint(REPO)
    nb = _run(REPO / "ocr_train.ipynb", tmp_path / "out.ipynb", REPO, DATA=str(data_root), OUT=str(tmp_path / "run"))
    run = tmp_path / "run" / "runs" / "fast"
    for name in ("figures/curves.png", "figures/matrix.png", "figures/robustness.png", "figures/recipes.json",
                 "weights/crnn_ocr_model_best.pth", "weights/crnn_ocr_model_best.json", "real_only/best.pth"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["runs"]  # no weights/ or figures/ at OUT
    card = json.loads((run / "weights/crnn_ocr_model_best.json").read_text())
    assert card["data"].startswith("real crops")
    assert card["file"] == "runs/fast/weights/crnn_ocr_model_best.pth"
    assert 0.0 <= card["metrics"]["test"]["exact_match"] <= 1.0
    text = _text(nb)
    assert "EMBEDDED DEFAULT" not in text
    assert f"weights to {run / 'weights'}/" in text and "fast run" in text
    assert _fingerprint(REPO) == before


def test_notebook_without_dataset_writes_only_under_runs_embedded(tmp_path):
    """The README's default command in a copy of the repository, with no dataset: the committed files stay."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("ocr_train.ipynb", "README.md"):
        shutil.copy(REPO / name, repo / name)
    for name in ("anpr_ocr", "weights", "figures"):
        shutil.copytree(REPO / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    before = _fingerprint(repo)
    assert before == _fingerprint(REPO) and "weights/crnn_ocr_model_best.pth" in before
    empty = tmp_path / "no-data"
    empty.mkdir()
    nb = _run(repo / "ocr_train.ipynb", tmp_path / "out.ipynb", repo, DATA=str(empty))  # OUT: the default "."
    text = _text(nb)
    assert "EMBEDDED DEFAULT" in text and str(empty) in text
    assert text.count("committed weights/, figures/ and README are left as they are") == 2  # at the start and the end
    run = repo / "runs" / "embedded"
    for name in ("figures/curves.png", "figures/recipes.json", "weights/crnn_ocr_model_best.pth",
                 "weights/crnn_ocr_model_int8_fx.pth", "real_only/best.pth", "synth_then_real/best.pth"):
        assert (run / name).is_file(), name
    recipes = json.loads((run / "figures/recipes.json").read_text())
    assert recipes["data"].startswith("EMBEDDED DEFAULT")
    assert sorted(p.name for p in (repo / "runs").iterdir()) == ["embedded"]
    assert _fingerprint(repo) == before
