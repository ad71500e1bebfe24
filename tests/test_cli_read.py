"""`anpr-ocr read`: a bad photo is skipped and the others are read, --quiet, --backend, --draw."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_ocr.cli.main import main
from anpr_ocr.pipeline.read import DEFAULT_DETECTOR, read_plates

pytestmark = pytest.mark.skipif(not DEFAULT_DETECTOR.is_file(), reason="no committed detector")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> tuple[Path, Path, Path]:
    """a.png and b.png: rendered scenes with plates; bad.png: not an image."""
    from anpr_ocr.train.scenes import synthetic_photos
    from anpr_ocr.train.synth import PlateRenderer, SynthConfig

    folder = tmp_path_factory.mktemp("photos")
    a, b = synthetic_photos(PlateRenderer(SynthConfig()), 2, seed=2)
    cv2.imwrite(str(folder / "a.png"), a.grey)
    cv2.imwrite(str(folder / "b.png"), b.grey)
    (folder / "bad.png").write_bytes(b"not a png")
    return folder / "a.png", folder / "bad.png", folder / "b.png"


def _expected(path: Path) -> list[str]:
    """The text lines `read` prints for a photo, from read_plates itself."""
    readings = read_plates(str(path))
    return [f"{path}\t{r.text}\t{r.confidence:.3f}" for r in readings] or [f"{path}\t-"]


def test_a_bad_photo_is_skipped_and_the_next_is_read(photos, capsys):
    a, bad, b = photos
    assert main(["read", str(a), str(bad), str(b)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert ["\t".join(line.split("\t")[:3]) for line in lines] == _expected(a) + _expected(b)  # b.png is read too
    (message,) = err.splitlines()
    assert message.startswith(f"anpr-ocr: skipped {bad}: ") and "Traceback" not in err
    assert main(["read", str(a), str(b)]) == 0
    assert capsys.readouterr().out == out


def test_quiet_skips_silently_but_says_how_many_at_the_end(photos, capsys, monkeypatch):
    from anpr_ocr.cli import common

    a, bad, b = photos
    monkeypatch.setattr(common, "is_tty", lambda stream: True)  # as on a terminal: a progress bar
    assert main(["read", str(a), str(bad), str(b)]) == 1
    loud = capsys.readouterr()
    assert " photos" in loud.err and f"skipped {bad}" in loud.err  # tqdm's bar ("2 photos [...]"), the skip
    assert main(["read", str(a), str(bad), str(b), str(bad), "--quiet"]) == 1
    quiet = capsys.readouterr()
    assert quiet.err.splitlines() == ["anpr-ocr: skipped 2 unreadable photos"]
    assert quiet.out == loud.out


def test_json_lines_and_a_drawing_with_labels(photos, tmp_path, capsys):
    a, _, b = photos
    assert main(["read", str(a), str(b), "--json", "--draw", str(tmp_path / "drawn"), "--backend", "torch"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # JSON Lines: one photo a line
    assert [r["path"] for r in rows] == [str(a), str(b)]
    readings = read_plates(str(a), backend="torch")
    assert [p["text"] for p in rows[0]["plates"]] == [r.text for r in readings] and readings
    drawn = cv2.imread(str(tmp_path / "drawn" / "a.jpg"))
    photo = cv2.imread(str(a))
    assert drawn.shape == photo.shape
    for r in readings:  # a label filled green over a valid plate read with confidence, else orange
        colour = (0, 200, 0) if r.valid and not r.flagged else (0, 165, 255)
        fill = np.abs(drawn.astype(int) - colour).max(axis=-1) < 40  # through JPEG
        x0, y0, x1, _ = (int(v) for v in r.box)
        above = fill[max(y0 - 40, 0):y0, x0:x1]
        assert above.mean() > 0.3, r.text  # a filled box over the plate


def test_one_pass_reaches_read_plates(photos, capsys, monkeypatch):
    from anpr_ocr.detector.net import SECOND_PASS_OVER
    from anpr_ocr.pipeline import read as pipeline_read

    seen = []  # `read` imports read_plates when it runs
    monkeypatch.setattr(pipeline_read, "read_plates", lambda *a, **k: seen.append(k["second_pass_over"]) or [])
    a, _, _ = photos
    assert main(["read", str(a)]) == 0 and main(["read", str(a), "--one-pass"]) == 0
    assert seen == [SECOND_PASS_OVER, None]
