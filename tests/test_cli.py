"""The command line: `python -m anpr_ocr predict|eval|bench`, its help, --version and --quiet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anpr_ocr.cli.main import main
from anpr_ocr.reader.loader import DEFAULT_WEIGHTS
from anpr_ocr.reader.predict import predict

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
    rows = _json_lines(done.stdout)
    expected = predict(crops[0])
    assert len(rows) == 1 and rows[0]["path"] == str(crops[0])
    assert rows[0]["text"] == expected.text
    assert rows[0]["confidence"] == pytest.approx(expected.confidence, rel=1e-5)
    assert (rows[0]["plate_type"], rows[0]["valid"], rows[0]["flagged"]) == \
        (expected.plate_type, expected.valid, expected.flagged)


def _json_lines(text: str) -> list[dict]:
    """--json prints JSON Lines: one object per line."""
    return [json.loads(line) for line in text.splitlines()]


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
    rows = _json_lines(capsys.readouterr().out)
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
    for argv in (["predict", str(empty_dir)], ["predict", str(crops[0]), "--weights", str(truncated)],
                 ["predict", str(crops[0]), "--workers", "-1"], ["eval", str(tmp_path / "nowhere")]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("anpr-ocr: error:"), (argv, err)
    # an unreadable image is skipped with one line on stderr; the others are read; the exit code is 1
    for argv in (["predict", str(truncated)], ["predict", str(truncated), str(crops[0])]):
        assert main(argv) == 1
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"anpr-ocr: skipped {truncated}: "), err
        assert len(captured.out.strip().splitlines()) == len(argv) - 2


@pytest.fixture()
def crop_tree(crops, tmp_path):
    """A folder of crops in nested folders and three formats, with an unreadable file among them."""
    import cv2

    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deeper").mkdir()
    shutil.copy(crops[0], tmp_path / "a.png")
    cv2.imwrite(str(tmp_path / "b" / "deeper" / "c.webp"), cv2.imread(str(crops[1])))
    cv2.imwrite(str(tmp_path / "b" / "d.JPG"), cv2.imread(str(crops[2])))
    shutil.copy(crops[1], tmp_path / "b.png")
    (tmp_path / "b" / "broken.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("not an image, not picked up")
    return tmp_path


def test_cli_predict_streams_a_tree_in_sorted_order_with_workers(crop_tree, capsys):
    expected = [p for p in sorted(crop_tree.rglob("*")) if p.suffix.lower() in (".png", ".webp", ".jpg")]
    assert len(expected) == 5
    outputs = []
    for workers in ("0", "2"):
        assert main(["predict", str(crop_tree), "--json", "--batch-size", "2", "--workers", workers]) == 1
        captured = capsys.readouterr()
        assert captured.err.strip().splitlines() == [line for line in captured.err.strip().splitlines()
                                                     if line.startswith("anpr-ocr: skipped ")]
        assert "broken.png" in captured.err and len(captured.err.strip().splitlines()) == 1
        outputs.append(captured.out)
    assert outputs[0] == outputs[1]
    rows = _json_lines(outputs[0])
    readable = [p for p in expected if p.name != "broken.png"]
    assert [r["path"] for r in rows] == [str(p) for p in readable]
    assert [r["text"] for r in rows] == [r.text for r in predict(readable)]


def test_cli_predict_prints_each_batch_before_reading_the_next(crop_tree, capsys, monkeypatch):
    from anpr_ocr.cli import predict as cli

    printed_before = []
    real = cli.read_files

    def spy(paths):
        printed_before.append(len(capsys.readouterr().out.splitlines()))
        return real(paths)

    monkeypatch.setattr(cli, "read_files", spy)
    main(["predict", str(crop_tree), "--batch-size", "1"])
    # the lines printed since the previous batch was read, at each read: a.png's line is out before
    # b/broken.png is read; broken.png prints none (its message goes to stderr); then d.JPG, c.webp
    assert printed_before == [0, 1, 0, 1, 1]


def test_cli_usage_errors_and_help(capsys):
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["predict"]) == 2
    for argv in (["--help"], ["predict", "--help"], ["eval", "--help"]):
        assert main(argv) == 0
    assert "FILE_OR_DIR" in capsys.readouterr().out


def test_cli_bench_parses_its_arguments(monkeypatch, data_root, tmp_path, capsys):
    from anpr_ocr.report import plots, tables as report
    from anpr_ocr.research import bench

    assert main(["bench", "--help"]) == 0 and "--fp32" in capsys.readouterr().out
    assert main(["bench", "--fp32", str(tmp_path / "missing.pth"), "--int8", str(tmp_path / "x.pth"),
                 "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("anpr-ocr: error:") and "missing.pth" in err and "\n" not in err
    seen = {}

    def fake_run(fp32, int8, samples, **kwargs):
        seen.update(kwargs, n=len(samples))
        return {"meta": {"threads": kwargs["threads"]}}

    monkeypatch.setattr(bench, "run_benchmark", fake_run)
    for name in ("format_table", "format_predict_table", "format_cli_table"):
        monkeypatch.setattr(report, name, lambda *args: "")
    drawn = []
    monkeypatch.setattr(plots, "plot_benchmark", lambda result, path: drawn.append(path))
    assert main(["bench", "--data", str(data_root / "test"), "--reps", "3", "--threads", "1", "--no-memory",
                 "--out", str(tmp_path / "b.json")]) == 0
    assert (seen["n"], seen["reps"], seen["threads"], seen["memory"]) == (102, 3, [1], False)
    assert seen["calibration"] and drawn == [tmp_path / "b.png"] and seen["out_json"] == tmp_path / "b.json"
    assert seen["cli_main"] is main  # the command times itself through the entry point it is given


# -- what the command says about itself: help, version, extras -----------------------------------------

def _help(capsys, *argv: str) -> str:
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere


def test_help_describes_crops_photos_training_and_extras(capsys):
    text = _help(capsys)
    for words in ("crops:", "photos:", "training:", "train-detector", 'pip install "anpr_ocr[train]"',
                  'pip install "anpr_ocr[onnx]"', "--version"):
        assert words in text, words
    for command in ("predict", "read"):  # --json prints one object per line
        assert "JSON Lines" in _help(capsys, command)
    assert "SPLIT/img/" in _help(capsys, "eval") and "annotations.json" in _help(capsys, "train-detector")


def test_help_gives_the_default_values(capsys):
    from anpr_ocr.core.onnx_runtime import DEFAULT_BACKEND
    from anpr_ocr.pipeline.read import MIN_PLATE_WIDTH, MIN_READING_CONFIDENCE
    from anpr_ocr.reader.predict import DEFAULT_DECODER
    from anpr_ocr.train.detector import DetectConfig
    from anpr_ocr.train.reader import TrainConfig

    read = _help(capsys, "read")
    for shown in (f"(default: {MIN_PLATE_WIDTH})", f"(default: {MIN_READING_CONFIDENCE})",
                  f"(default: {DEFAULT_DECODER})", f"(default: {DEFAULT_BACKEND})", "(default: 64)"):
        assert shown in read, shown
    assert "anpr_ocr." not in read and "MIN_" not in read  # values, not symbol names
    train, recipe = _help(capsys, "train"), TrainConfig()
    for flag, value in (("--pretrain-epochs", recipe.pretrain_epochs), ("--finetune-epochs", recipe.finetune_epochs),
                        ("--synth-per-epoch", recipe.synth_per_epoch), ("--seed", recipe.seed),
                        ("--threads", recipe.threads)):
        assert f"{flag} N " in train and f"(default: {value})" in train.split(f"{flag} N ", 1)[1].split(" --")[0]
    assert "recipe's" not in train and "../shared" not in train
    assert "$ANPR_FONT" in train and "DejaVu Sans" in train and "$ANPR_TEXTS" in train and "at random" in train
    detector, recipe = _help(capsys, "train-detector"), DetectConfig()
    for flag, value in (("--epochs N", recipe.epochs), ("--crops-per-epoch N", recipe.crops_per_epoch),
                        ("--input-size N", recipe.model.input_size), ("--minutes MINUTES", recipe.minutes)):
        assert f"(default: {value})" in detector.split(flag + " ", 1)[1].split(" --")[0], flag


def test_version(capsys):
    import anpr_ocr

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"anpr-ocr {anpr_ocr.__version__}"
    done = _run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"anpr-ocr {anpr_ocr.__version__}"


def test_predict_quiet_skips_without_a_line_each(crops, tmp_path, capsys, monkeypatch):
    from anpr_ocr.cli import common

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    monkeypatch.setattr(common, "is_tty", lambda stream: True)  # as on a terminal: a progress bar
    assert main(["predict", str(bad), str(crops[0])]) == 1
    loud = capsys.readouterr()
    assert f"anpr-ocr: skipped {bad}: " in loud.err and " plates" in loud.err  # the line, and tqdm's bar
    assert main(["predict", str(bad), str(crops[0]), "--quiet"]) == 1
    quiet = capsys.readouterr()
    assert quiet.err.splitlines() == ["anpr-ocr: skipped 1 unreadable image"] and quiet.out == loud.out


def _block(monkeypatch, *packages: str) -> None:
    """Make `packages` unimportable in this process (as in a wheel without the extra), and forget the
    package's modules that import them, so that they are imported again."""
    import sys

    for name in packages:
        monkeypatch.setitem(sys.modules, name, None)  # `import name` raises ModuleNotFoundError
    for name in [m for m in sys.modules if m.startswith(("anpr_ocr.train", "anpr_ocr.reader.onnx_backend"))]:
        monkeypatch.delitem(sys.modules, name)


def test_a_missing_extra_is_named_with_its_quoted_install_command(crops, tmp_path, capsys, monkeypatch):
    _block(monkeypatch, "tqdm", "albumentations", "onnx", "onnxruntime", "onnxscript")
    for argv in (["train-detector", "--data", str(tmp_path), "--out", str(tmp_path / "run")],
                 ["train-detector", "--help"], ["train", "--help"]):
        assert main(argv) == 1, argv
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith(f"anpr-ocr: error: {argv[0]} needs the train extra (") and "tqdm" in line
        assert line.endswith('pip install "anpr_ocr[train]"')
    weights = tmp_path / "model.pth"  # a file of its own: the reader cache holds no ONNX session for it
    shutil.copy(DEFAULT_WEIGHTS, weights)
    assert main(["predict", str(crops[0]), "--weights", str(weights), "--backend", "onnx"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("anpr-ocr: error: ") and "onnx" in line and line.endswith('pip install "anpr_ocr[onnx]"')
    assert main(["predict", str(crops[0]), "--help"]) == 0  # reading needs no extra, nor does its help
