import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anpr_ocr.core.alphabet import ALPHABET

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "decoder_sweep.py"


def _logits(text: str, steps: int = 32) -> np.ndarray:
    """Frame logits whose best path spells `text` (each character, then a blank), confidently."""
    logits = np.zeros((steps, len(ALPHABET) + 1), np.float32)
    path = [c for ch in text for c in (ALPHABET.index(ch) + 1, 0)]
    for t in range(steps):
        logits[t, path[t] if t < len(path) else 0] = 12.0
    return logits


def _unsure_second_seven() -> np.ndarray:
    """Logits spelling A123BC77 whose last frame of the region's second 7 is unsure: blank 0.45 (reading
    A123BC7, no valid plate), 7 0.35 (A123BC77, valid), X 0.20 (A123BC7X, no valid plate)."""
    logits = _logits("A123BC77")
    frame = 14  # A _ 1 _ 2 _ 3 _ B _ C _ 7 _ [7] _
    logits[frame] = -30.0
    logits[frame, [0, ALPHABET.index("7") + 1, ALPHABET.index("X") + 1]] = np.log([0.45, 0.35, 0.20])
    return logits


def _write_seed(tmp_path: Path, seed: int, truths: list[str], spelled: list[str],
                logits: dict[int, np.ndarray] | None = None) -> None:
    """A two-fold record of recipe "R" and its out-of-fold logits, one crop a fold (`logits`: crop index ->
    its logits, for crops not simply spelled)."""
    crops = [{"source": f"c{i}", "fold": i, "truth": t, "greedy": s, "read": s, "confidence": 0.9}
             for i, (t, s) in enumerate(zip(truths, spelled))]
    folds = [{"fold": i, "n": 1, "exact_match": 1.0, "cer": 0.0, "exact_match_read": 1.0, "cer_read": 0.0,
              "wall_seconds": 1.0, "proxies": {}, "curve": []} for i in range(2)]
    record = {"recipe": "R", "seed": seed, "k": 2, "n": 2, "temperature": 1.0, "pretrain": None, "folds": folds,
              "crops": crops}
    (tmp_path / "records").mkdir(exist_ok=True)
    (tmp_path / "records" / f"R_seed{seed}.json").write_text(json.dumps(record))
    for i, (truth, text) in enumerate(zip(truths, spelled)):
        fold = tmp_path / "runs" / "R" / f"seed{seed}" / f"fold{i}"
        fold.mkdir(parents=True)
        np.savez(fold / "oof.npz", logits=(logits or {}).get(i, _logits(text))[None], truths=np.array([truth]))


def _run(tmp_path: Path, *ratios: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--recipe", "R", "--records", str(tmp_path / "records"),
                           "--runs", str(tmp_path / "runs"), "--ratios", *ratios, "--out", str(tmp_path / "out.json")],
                          capture_output=True, text=True)


def test_decoder_sweep_scores_each_seed_and_pools(tmp_path):
    # seed 1 spells both plates right; seed 2 spells its second one wrong (a valid plate, so no ratio mends it)
    _write_seed(tmp_path, 1, ["A123BC77", "E456KM199"], ["A123BC77", "E456KM199"])
    _write_seed(tmp_path, 2, ["A123BC77", "E456KM199"], ["A123BC77", "E456KM198"])
    assert _run(tmp_path, "1", "20").returncode == 0
    rows = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert [r["max_ratio"] for r in rows] == [1, 20]
    for row in rows:
        assert (row["read"], row["n"]) == (3, 4)
        assert row["seeds"] == {"1": {"read": 2, "n": 2, "cer": 0.0},
                                "2": {"read": 1, "n": 2, "cer": pytest.approx(1 / 17)}}  # one edit in 17 characters


def test_the_swept_ratio_changes_what_is_read(tmp_path):
    """At max_ratio 1 the more probable invalid A123BC7 is read; at 20 the valid A123BC77, 0.35 / 0.45 as likely."""
    _write_seed(tmp_path, 1, ["A123BC77", "E456KM199"], ["A123BC77", "E456KM199"], {0: _unsure_second_seven()})
    assert _run(tmp_path, "1", "20").returncode == 0
    rows = {r["max_ratio"]: r for r in json.loads((tmp_path / "out.json").read_text())["rows"]}
    assert rows[1]["seeds"]["1"] == {"read": 1, "n": 2, "cer": pytest.approx(1 / 17)}  # one character lost of 17
    assert rows[20]["seeds"]["1"] == {"read": 2, "n": 2, "cer": 0.0}
    assert (rows[1]["exact_match"], rows[20]["exact_match"]) == (0.5, 1.0)


def test_decoder_sweep_refuses_logits_of_other_crops(tmp_path):
    _write_seed(tmp_path, 1, ["A123BC77", "E456KM199"], ["A123BC77", "E456KM199"])
    record = tmp_path / "records" / "R_seed1.json"
    data = json.loads(record.read_text())
    data["crops"][1]["truth"] = "X000XX00"
    record.write_text(json.dumps(data))
    result = _run(tmp_path, "20")
    assert result.returncode != 0 and "not those of the record" in result.stderr
