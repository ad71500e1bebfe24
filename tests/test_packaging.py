"""The wheel ships the committed models and reads plates wherever it is installed; reading plates
needs only the core dependencies (not the `train` extra)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("crnn_ocr_model_best.pth", "crnn_ocr_model_best.json", "crnn_ocr_model_int8_fx.pth",
           "crnn_ocr_model_int8_fx.json")
TRAIN_EXTRA = ("albumentations", "matplotlib", "tqdm", "pandas", "rapidfuzz")

pytestmark = pytest.mark.skipif(not all((REPO / "weights" / n).is_file() for n in SHIPPED),
                                reason="the committed weights are not in this checkout")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _python(code: str, cwd: Path, pythonpath: Path | str, *args: str) -> subprocess.CompletedProcess:
    """Run the venv's interpreter with only `pythonpath` added (the venv's site-packages give the deps)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pythonpath), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *(("-c", code) if code else ()), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (so no build/ is left in the checkout)."""
    try:  # the venv's setuptools if it has one; else pip fetches it for an isolated build
        import setuptools  # noqa: F401
        isolation = ["--no-build-isolation"]
    except ImportError:
        isolation = []
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("anpr_ocr", "weights"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", *isolation, "-q",
                    "-w", str(tmp / "dist")], check=True, capture_output=True, timeout=300)
    (path,) = (tmp / "dist").glob("anpr_ocr-*.whl")
    return path


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel installed (not editable) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return target


def test_wheel_ships_the_committed_weights_and_their_cards(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in SHIPPED:
            assert f"anpr_ocr/weights/{name}" in names, name
            assert _sha256(zf.read(f"anpr_ocr/weights/{name}")) == _sha256((REPO / "weights" / name).read_bytes())
    assert {"anpr_ocr/core/shipped.py", "anpr_ocr/reader/predict.py", "anpr_ocr/pipeline/read.py",
            "anpr_ocr/cli/main.py", "anpr_ocr/train/reader.py"} <= names  # every layer ships
    assert not any(n.startswith("weights/") for n in names)  # inside the package, not a top-level folder


def _crops(data_root: Path, n: int) -> list[tuple[Path, str]]:
    anns = sorted((data_root / "test" / "ann").glob("*.json"))[:n]
    out = []
    for ann in anns:
        (image,) = (data_root / "test" / "img").glob(ann.stem + ".*")
        out.append((image, json.loads(ann.read_text())["description"]))
    return out


READ = """
import json, sys
import anpr_ocr
readings = anpr_ocr.predict(sys.argv[1:])
print(json.dumps({"module": anpr_ocr.__file__, "fp32": str(anpr_ocr.FP32_WEIGHTS), "int8": str(anpr_ocr.INT8_WEIGHTS),
                  "texts": [r.text for r in readings], "confidences": [r.confidence for r in readings]}))
"""


def test_installed_wheel_reads_crops_from_another_directory(site, data_root, tmp_path):
    crops = _crops(data_root, 8)
    files = [str(p) for p, _ in crops]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = _python(READ, elsewhere, site, *files)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert Path(got["module"]).is_relative_to(site)
    assert Path(got["fp32"]) == site / "anpr_ocr" / "weights" / "crnn_ocr_model_best.pth"
    assert Path(got["int8"]).is_file()
    labels = [label for _, label in crops]
    assert sum(t == label for t, label in zip(got["texts"], labels)) >= 6, (got["texts"], labels)
    # the same model as the checkout's weights/: the same readings, to the last digit
    here = _python(READ, REPO, REPO, *files)
    assert here.returncode == 0, here.stderr
    ours = json.loads(here.stdout)
    assert Path(ours["fp32"]) == REPO / "weights" / "crnn_ocr_model_best.pth"
    assert (got["texts"], got["confidences"]) == (ours["texts"], ours["confidences"])

    cli = _python("", elsewhere, site, "-m", "anpr_ocr", "predict", files[0])
    assert cli.returncode == 0, cli.stderr
    path, text = cli.stdout.strip().split("\t")[:2]
    assert (path, text) == (files[0], got["texts"][0])


# What a wheel installed without extras lacks: the `train` and `onnx` extras' packages.
BLOCKED = TRAIN_EXTRA + ("papermill", "nbformat", "onnx", "onnxruntime", "onnxscript")

# On the interpreter's path as sitecustomize.py, so `python -m anpr_ocr ...` runs without the extras too;
# at exit it says which of them were loaded (none may be).
SITECUSTOMIZE = f"""
import atexit, importlib.machinery, sys

class NotInstalled:  # as if only the core dependencies were installed: importing one raises ModuleNotFoundError
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:  # a spec without origin (torch's own find_spec probes skip it)
            return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {{spec.name!r}} (blocked)", name=spec.name)

    def exec_module(self, module):
        pass

sys.meta_path.insert(0, NotInstalled())
atexit.register(lambda: print("extras loaded:", sorted(m for m in {BLOCKED!r} if m in sys.modules), file=sys.stderr))
"""

READ_WITHOUT_EXTRAS = """
import json, sys
import numpy as np
import anpr_ocr
from anpr_ocr.cli.main import main

photo, crop, split = sys.argv[1], *(sys.argv[2:] or [None, None])
reading = anpr_ocr.predict(np.full((40, 160), 128, np.uint8))
assert isinstance(reading, anpr_ocr.PlateReading), reading
result = {"plates": [[r.text, list(r.box)] for r in anpr_ocr.read_plates(photo)]}
if crop:
    result["predict_cli"] = main(["predict", crop])
    result["eval_cli"] = main(["eval", "--json", split])
print("RESULT", json.dumps(result))
"""


def _without_extras(tmp_path: Path, *args: str,
                    code: str = READ_WITHOUT_EXTRAS) -> tuple[subprocess.CompletedProcess, str]:
    """Run `code` (or `python -m ...` when code is empty) where no extra can be imported; also which were loaded."""
    blocker = tmp_path / "blocker"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(SITECUSTOMIZE)
    run = _python(code, tmp_path, f"{blocker}:{REPO}", *args)
    loaded = [line for line in run.stderr.splitlines() if line.startswith("extras loaded:")]
    return run, loaded[-1] if loaded else "(the blocker did not run)"


@pytest.fixture(params=["rendered", "real"])
def photo(request, tmp_path) -> tuple[Path, list[str]]:
    """A photo file and its plates' texts: a scene rendered here (the parent process has the train extra),
    or the first test photo of ../shared/data/vkcv-photos (skipped when absent)."""
    if request.param == "real":
        from anpr_ocr.detector.photos import load_photos

        root = request.getfixturevalue("photos_root")
        first = min(load_photos(root / "test"), key=lambda p: p.path)
        return Path(first.path), [p.text for p in first.plates]
    import cv2

    from anpr_ocr.train.scenes import synthetic_photos
    from anpr_ocr.train.synth import PlateRenderer, SynthConfig

    (scene,) = synthetic_photos(PlateRenderer(SynthConfig()), 1, seed=2)  # two plates, DejaVu Sans
    path = tmp_path / "scene.png"
    cv2.imwrite(str(path), scene.grey)
    return path, [p.text for p in scene.plates]


def test_reading_photos_needs_no_extra(photo, tmp_path):
    """predict, read_plates and `python -m anpr_ocr read` with none of the train or onnx extras importable: the same
    readings as backend="torch" gives with them (without onnxruntime "auto" runs PyTorch), and one of the photo's
    plates read with at most one character wrong (the rendered scene is in DejaVu Sans, a typeface the reader never
    trained on)."""
    from anpr_ocr import read_plates
    from anpr_ocr.core.metrics import edit_distance

    path, truths = photo
    expected = [[r.text, list(r.box)] for r in read_plates(str(path), backend="torch")]
    assert min(edit_distance(text, t) for text, _ in expected for t in truths) <= 1, (expected, truths)
    run, loaded = _without_extras(tmp_path, str(path))
    assert run.returncode == 0, run.stderr
    assert loaded == "extras loaded: []"
    got = json.loads(run.stdout.split("RESULT ", 1)[1])["plates"]
    cli, loaded = _without_extras(tmp_path, "-m", "anpr_ocr", "read", "--json", str(path), code="")
    assert cli.returncode == 0, cli.stderr
    assert loaded == "extras loaded: []"
    (line,) = cli.stdout.strip().splitlines()
    by_command = [[p["text"], p["box"]] for p in json.loads(line)["plates"]]
    for readings in (got, by_command):  # the same plates; boxes to float rounding (another process's kernels)
        assert [text for text, _ in readings] == [text for text, _ in expected]
        assert np.allclose([box for _, box in readings], [box for _, box in expected], atol=1e-3)


def test_reading_and_scoring_crops_needs_no_extra(data_root, tmp_path):
    (crop, label), = _crops(data_root, 1)
    blank = tmp_path / "blank.png"
    import cv2

    cv2.imwrite(str(blank), np.full((480, 640), 90, np.uint8))
    run, loaded = _without_extras(tmp_path, str(blank), str(crop), str(data_root / "val"))
    assert run.returncode == 0, run.stderr
    assert loaded == "extras loaded: []"
    result = json.loads(run.stdout.split("RESULT ", 1)[1])
    assert result["plates"] == [] and result["predict_cli"] == 0 and result["eval_cli"] == 0
    assert f"{crop}\t{label}" in run.stdout  # the committed model reads this crop right
    scores = json.loads(run.stdout[run.stdout.index("{"):run.stdout.index("RESULT")])
    assert scores["n"] > 0 and 0.0 <= scores["cer"] <= 1.0


INT8_WITHOUT_ONNXRUNTIME = """
import json, sys
import anpr_ocr
from anpr_ocr.reader.loader import reader_backend
readings = anpr_ocr.predict(sys.argv[1:], weights=anpr_ocr.INT8_WEIGHTS)
print("RESULT", json.dumps({"backend": reader_backend(anpr_ocr.INT8_WEIGHTS),
                            "texts": [r.text for r in readings], "confidences": [r.confidence for r in readings]}))
"""


def test_the_int8_model_reads_without_onnxruntime(data_root, tmp_path):
    """predict(weights=INT8) under backend="auto" where onnxruntime cannot be imported: the FX model, read
    as backend="torch" reads in this process, whatever this CPU would pick with onnxruntime."""
    from anpr_ocr import INT8_WEIGHTS, predict

    files = [str(p) for p, _ in _crops(data_root, 4)]
    expected = predict(files, weights=INT8_WEIGHTS, backend="torch")
    run, loaded = _without_extras(tmp_path, *files, code=INT8_WITHOUT_ONNXRUNTIME)
    assert run.returncode == 0, run.stderr
    assert loaded == "extras loaded: []"
    got = json.loads(run.stdout.split("RESULT ", 1)[1])
    assert got["backend"] == "torch"
    assert got["texts"] == [r.text for r in expected]
    assert np.allclose(got["confidences"], [r.confidence for r in expected], atol=1e-4)


def test_a_training_command_without_the_extra_names_it(tmp_path):
    run, _ = _without_extras(tmp_path, "-m", "anpr_ocr", "train", "--data", str(tmp_path), "--out",
                             str(tmp_path / "run"), code="")
    assert run.returncode == 1
    (line,) = [s for s in run.stderr.splitlines() if s.startswith("anpr-ocr:")]
    assert line.startswith("anpr-ocr: error: train needs the train extra (No module named ")
    assert line.endswith('pip install "anpr_ocr[train]"') and "Traceback" not in run.stderr
