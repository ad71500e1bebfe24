"""The notebook runs top to bottom in fast mode: on the real crops, and on its embedded default.

Neither run may touch the committed weights/, figures/ or README: a fast run writes under OUT/runs/fast,
an embedded-default run under OUT/runs/embedded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from anpr_ocr.core.data import load_splits
from anpr_ocr.research import crossval
from anpr_ocr.train.reader import TrainConfig

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


def _record_of(samples, fast_recipe: TrainConfig) -> dict:
    """A cross-validation record of `samples` shaped as run_cv writes one, for the fast mode's recipe: 2 folds,
    one fine-tuning epoch, every crop read right at confidence 0.9 but every 25th, read wrong at 0.2."""
    folds = crossval.assign_folds(samples, k=2, seed=0)
    names = crossval.relative_sources(samples)
    crops = [{"source": n, "fold": f, "truth": s.text, "greedy": s.text if i % 25 else "X",
              "read": s.text if i % 25 else "X", "confidence": 0.9 if i % 25 else 0.2}
             for i, (n, f, s) in enumerate(zip(names, folds, samples))]
    rows = []
    for fold in (0, 1):
        scores = crossval.crop_scores([c for c in crops if c["fold"] == fold])
        rows.append({"fold": fold, "n": folds.count(fold), "wall_seconds": 60.0, "proxies": {},
                     "curve": [{"epoch": 1, "exact_match": scores["exact_match"], "cer": scores["cer"]}], **scores})
    return {"recipe": "committed", "seed": 1, "k": 2, "fold_seed": 0, "n": len(samples),
            "samples": crossval.samples_digest(samples), "decoder": "format", "temperature": 1.234,
            "train_config": crossval.portable(fast_recipe), "pretrain": {"wall_seconds": 120.0}, "folds": rows,
            "crops": crops}


def test_notebook_fast_mode_on_real_crops_with_crossvalidation_records(tmp_path, data_root, font_path, texts_path):
    """With records of its data and recipe, the notebook trains the kept recipe on train + val, takes the
    temperature fitted out of fold, and scores nothing on val."""
    before = _fingerprint(REPO)
    splits, _ = load_splits(data_root, ("train", "val"))
    fast_recipe = TrainConfig(synth=replace(TrainConfig().synth, font_path=str(font_path), texts_path=str(texts_path)),
                              pretrain_epochs=1, synth_per_epoch=256, finetune_epochs=1, synth_mix=1.0)
    records = tmp_path / "cv"
    records.mkdir()
    (records / "committed_seed1.json").write_text(json.dumps(_record_of(splits["train"][:192] + splits["val"],
                                                                        fast_recipe)))
    nb = _run(REPO / "ocr_train.ipynb", tmp_path / "out.ipynb", REPO, DATA=str(data_root), OUT=str(tmp_path / "run"),
              CV_RECORDS=str(records), KEPT_RECIPE="committed", FONT=str(font_path), TEXTS=str(texts_path))
    run = tmp_path / "run" / "runs" / "fast"
    for name in ("figures/curves.png", "figures/matrix.png", "figures/robustness.png", "figures/recipes.json",
                 "figures/crossval.json", "figures/crossval_coverage.png", "weights/crnn_ocr_model_best.pth",
                 "weights/crnn_ocr_model_best.json", "real_only/best.pth"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["runs"]  # no weights/ or figures/ at OUT
    card = json.loads((run / "weights/crnn_ocr_model_best.json").read_text())
    assert card["data"].startswith("real crops")
    assert card["file"] == "runs/fast/weights/crnn_ocr_model_best.pth"
    assert card["trained_on"] == "train + val" and card["selected_on"] == f"cross-validation ({records})"
    assert card["temperature"] == 1.234 and card["temperature_fitted_on"] == "out-of-fold readings"
    assert set(card["metrics"]) == {"test"} and 0.0 <= card["metrics"]["test"]["exact_match"] <= 1.0
    assert card["metrics"]["test"]["decoder"] == "format" and "greedy_exact_match" in card["metrics"]["test"]
    history = json.loads((run / "synth_then_real" / "history.json").read_text())
    assert len(history) == 2 and "val_exact_match" not in history[-1]  # trained on val: not validated on it
    cv = json.loads((run / "figures/crossval.json").read_text())
    assert cv["kept"] == "committed" and cv["finetune_epochs"] == 1
    # 293 crops, 12 read wrong at confidence 0.2: 95% coverage flags those 12 (4.1%) and keeps 281, all right
    assert cv["coverage"]["kept"] == 281 and cv["coverage"]["accuracy"] == 1.0
    recipes = json.loads((run / "figures/recipes.json").read_text())["rows"]
    assert recipes[-1]["val_exact_match"] is None and recipes[-1]["trained_on"] == "train + val"
    assert recipes[0]["val_exact_match"] is not None  # the references still train on train and score val
    assert [r["trained_on"] for r in recipes] == ["train", "rendered plates", "train + val"]
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
                 "weights/crnn_ocr_model_int8_fx.pth", "synth_then_real/best.pth"):
        assert (run / name).is_file(), name
    assert not (run / "real_only").exists() and "real only: skipped on the embedded default" in text
    recipes = json.loads((run / "figures/recipes.json").read_text())
    assert recipes["data"].startswith("EMBEDDED DEFAULT")
    assert sorted(p.name for p in (repo / "runs").iterdir()) == ["embedded"]
    assert _fingerprint(repo) == before


def test_readme_main_command_makes_the_folder_papermill_writes_to():
    """On a fresh clone runs/ does not exist (git ignores it), and papermill will not create its output's folder."""
    first = (REPO / "README.md").read_text(encoding="utf-8").split("```bash\n", 1)[1].splitlines()[0]
    steps = [s.strip() for s in first.split("&&")]
    papermill = next(i for i, s in enumerate(steps) if "papermill" in s)
    folder = Path(steps[papermill].split()[-1]).parent.as_posix()
    assert f"mkdir -p {folder}" in steps[:papermill], first
