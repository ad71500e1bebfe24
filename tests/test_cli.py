"""The command line: `python -m anpr_ocr predict|eval|bench`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from anpr_ocr.__main__ import main
from anpr_ocr.predict import DEFAULT_WEIGHTS, predict

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason=f"no committed weights at {DEFAULT_WEIGHTS}")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anpr_ocr", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def crops(data_root):
    return sorted((data_root / "val" / "img").iterdir())[:3]


def test_cli_predict_json_matches_predict(crops):
    done = _run("predict", str(crops[0]), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    expected = predict(crops[0])
    assert len(rows) == 1 and rows[0]["path"] == str(crops[0])
    assert rows[0]["text"] == expected.text
    assert rows[0]["confidence"] == pytest.approx(expected.confidence, rel=1e-5)
    assert (rows[0]["plate_type"], rows[0]["valid"], rows[0]["flagged"]) == \
        (expected.plate_type, expected.valid, expected.flagged)


def test_cli_missing_file_fails_with_one_line():
    done = _run("predict", "/no/such/crop.png")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "/no/such/crop.png" in lines[0]
    assert "Traceback" not in done.stderr


def test_cli_eval_prints_exact_match(data_root):
    done = _run("eval", str(data_root / "val"))
    assert done.returncode == 0, done.stderr
    assert "exact match" in done.stdout and "CER" in done.stdout and "skipped" in done.stdout
    assert "private" in done.stdout


def test_cli_predict_folder_and_options(crops, tmp_path, capsys):
    for p in crops:
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "notes.txt").write_text("not an image, not picked up")
    assert main(["predict", str(tmp_path), "--alphabet", "cyrillic", "--decoder", "greedy", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in rows] == [p.name for p in crops]
    assert [r["text"] for r in rows] == [r.text for r in predict(crops, alphabet="cyrillic", decoder="greedy")]
    assert main(["predict", str(crops[0])]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(crops[0])) and predict(crops[0]).text in line


def test_cli_bad_inputs_give_one_line_and_nonzero(tmp_path, crops, capsys):
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(crops[0].read_bytes()[:200])
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    for argv in (["predict", str(truncated)], ["predict", str(empty_dir)],
                 ["predict", str(crops[0]), "--weights", str(truncated)],
                 ["eval", str(tmp_path / "nowhere")]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("anpr-ocr: error:"), (argv, err)
    # --keep-going reads what it can and still exits non-zero
    assert main(["predict", str(truncated), str(crops[0]), "--keep-going"]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 1 and "truncated.png" in captured.err


def test_cli_usage_errors_and_help(capsys):
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["predict"]) == 2
    for argv in (["--help"], ["predict", "--help"], ["eval", "--help"]):
        assert main(argv) == 0
    assert "FILE_OR_DIR" in capsys.readouterr().out


def test_cli_bench_forwards_its_arguments(monkeypatch):
    seen = []
    fake = types.ModuleType("anpr_ocr.bench")
    fake.main = lambda argv: seen.append(argv) or 3
    monkeypatch.setitem(sys.modules, "anpr_ocr.bench", fake)
    import anpr_ocr

    monkeypatch.setattr(anpr_ocr, "bench", fake, raising=False)
    assert main(["bench", "--reps", "1", "--help"]) == 3
    assert seen == [["--reps", "1", "--help"]]
