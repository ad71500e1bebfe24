import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.core.data import LoadReport, Sample, has_dataset, load_samples, load_splits


def _grey(value: int = 120, h: int = 24, w: int = 80) -> np.ndarray:
    img = np.full((h, w), value, np.uint8)
    img[:, w // 2:] = 255 - value
    return img


def _png_bytes(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


# ---------------------------------------------------------------- real data
def test_real_val_split(val_loaded):
    samples, report = val_loaded
    assert len(samples) == 101
    assert report.loaded == 101
    assert sum(report.skipped.values()) == 0
    assert report.examples == []
    assert str(report).endswith("val: loaded 101, skipped 0")
    for s in samples:
        assert isinstance(s, Sample)
        assert set(s.text) <= set(ALPHABET)
        assert len(s.text) in (8, 9)
        assert s.image.ndim == 2 and s.image.dtype == np.uint8
        assert min(s.image.shape) >= 2
        assert Path(s.source).parent.name == "img" and Path(s.source).is_file()
    first = next(s for s in samples if Path(s.source).name == "vkcv_1101_0.png")
    assert first.text == "O242PY96"
    assert first.image.shape == (103, 479)


def test_real_root_has_dataset(data_root):
    assert has_dataset(data_root)
    assert has_dataset(data_root, splits=("val",))
    assert not has_dataset(data_root, splits=("val", "holdout"))


# ---------------------------------------------------------------- Nomeroff layout, bad entries
def _write_ann(split: Path, stem: str, content) -> None:
    text = content if isinstance(content, (str, bytes)) else json.dumps(content, ensure_ascii=False)
    path = split / "ann" / f"{stem}.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def messy_split(tmp_path) -> Path:
    split = tmp_path / "val"
    (split / "img").mkdir(parents=True)
    (split / "ann").mkdir()
    img = split / "img"
    good = _grey()

    def png(stem, label, image=good):
        cv2.imwrite(str(img / f"{stem}.png"), image)
        if label is not None:
            _write_ann(split, stem, {"description": label, "name": stem})

    # loaded (8)
    png("good", "A123BC77")
    png("cyrillic", "а123вс77")
    cv2.imwrite(str(img / "int_id.png"), good)
    _write_ann(split, "int_id", {"description": "X900XH90", "name": 17, "region_id": 6, "count_lines": 1})
    png("int_description", 777)
    rgba = np.zeros((24, 80, 4), np.uint8)
    rgba[..., 2] = 255  # red, opaque
    rgba[..., 3] = 255
    png("rgba", "B456EK199", rgba)
    png("grey16", "C789MH50", good.astype(np.uint16) * 257)
    cv2.imwrite(str(img / "photo.jpg"), good)
    _write_ann(split, "photo", {"description": "E001KX777"})
    cv2.imwrite(str(img / "scan.bmp"), good)
    _write_ann(split, "scan", {"description": "M555OP05"})
    # unreadable image (3)
    (img / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    _write_ann(split, "corrupt", {"description": "A111AA11"})
    whole = _png_bytes(good)
    (img / "truncated.png").write_bytes(whole[: len(whole) // 2])
    _write_ann(split, "truncated", {"description": "A222AA22"})
    (img / "empty.png").write_bytes(b"")
    _write_ann(split, "empty", {"description": "A333AA33"})
    # missing ann JSON (1)
    png("no_ann", None)
    # invalid ann JSON (2)
    png("bad_json", None)
    _write_ann(split, "bad_json", '{"description": "A123BC77"')
    png("bad_utf8", None)
    _write_ann(split, "bad_utf8", b'{"description": "\xff\xfe"}')
    # ann JSON without a description (3)
    png("no_description", None)
    _write_ann(split, "no_description", {"name": "no_description"})
    png("blank_description", " ")
    png("list_json", None)
    _write_ann(split, "list_json", ["A123BC77"])
    # label outside the alphabet (1)
    png("bad_label", "A123ZZ77")
    # not images: ignored, not counted
    (img / "readme.txt").write_text("not an image")
    _write_ann(split, "orphan", {"description": "A123BC77"})
    return split


def test_messy_split_counts(messy_split):
    samples, report = load_samples(messy_split)
    assert report.loaded == len(samples) == 8
    assert dict(report.skipped) == {
        "unreadable image": 3,
        "ann JSON without a description": 3,
        "invalid ann JSON": 2,
        "missing ann JSON": 1,
        "label outside the alphabet": 1,
    }
    assert len(report.examples) == 10
    assert report.source == str(messy_split)


def test_messy_split_report_text(messy_split):
    _, report = load_samples(messy_split)
    text = str(report)
    assert text.startswith(f"{messy_split}: loaded 8, skipped 10 (")
    for part in ["3 unreadable image", "3 ann JSON without a description", "2 invalid ann JSON",
                 "1 missing ann JSON", "1 label outside the alphabet"]:
        assert part in text


def test_messy_split_examples_name_the_files(messy_split):
    _, report = load_samples(messy_split)
    where = {Path(w).name: why for w, why in report.examples}
    assert where["corrupt.png"] == "unreadable image"
    assert where["truncated.png"] == "unreadable image"
    assert where["no_ann.json"] == "missing ann JSON"
    assert where["bad_json.json"] == "invalid ann JSON"
    assert where["no_description.json"] == "ann JSON without a description"
    assert where["bad_label.png"] == "label outside the alphabet"


def test_messy_split_loaded_samples(messy_split):
    samples, _ = load_samples(messy_split)
    by_name = {Path(s.source).name: s for s in samples}
    assert sorted(by_name) == sorted(["good.png", "cyrillic.png", "int_id.png", "int_description.png", "rgba.png",
                                      "grey16.png", "photo.jpg", "scan.bmp"])
    assert by_name["good.png"].text == "A123BC77"
    assert by_name["cyrillic.png"].text == "A123BC77"
    assert by_name["int_id.png"].text == "X900XH90"
    assert by_name["int_description.png"].text == "777"  # ints are accepted as descriptions
    assert by_name["rgba.png"].text == "B456EK199"
    assert by_name["photo.jpg"].text == "E001KX777"
    for s in samples:
        assert s.image.ndim == 2 and s.image.dtype == np.uint8 and s.image.shape == (24, 80)
    np.testing.assert_array_equal(by_name["good.png"].image, _grey())
    np.testing.assert_array_equal(by_name["grey16.png"].image, _grey())  # 16 bit scaled back to 8
    np.testing.assert_array_equal(by_name["scan.bmp"].image, _grey())
    assert (by_name["rgba.png"].image == 76).all()  # red -> 0.299 * 255
    assert np.abs(by_name["photo.jpg"].image.astype(int) - _grey()).max() <= 10


# ---------------------------------------------------------------- file-name labels
def test_filename_labelled_folder(tmp_path):
    folder = tmp_path / "crops"
    folder.mkdir()
    for name in ["A123BC77.png", "0001_X900XH90.png", "0002_a123bc777.jpg", "0003_В456ЕК199.bmp",
                 "0004_BAD.png", "ZZZ.png"]:
        ok, buf = cv2.imencode(Path(name).suffix, _grey())  # numpy writes the Cyrillic name on any OS
        buf.tofile(str(folder / name))
    (folder / "0005_C789MH50.png").write_bytes(b"garbage")
    (folder / "notes.txt").write_text("A123BC77")
    samples, report = load_samples(folder)
    assert sorted(s.text for s in samples) == ["A123BC77", "A123BC777", "B456EK199", "X900XH90"]
    assert report.loaded == 4
    assert dict(report.skipped) == {"label outside the alphabet": 2, "unreadable image": 1}
    assert "loaded 4, skipped 3" in str(report)


# ---------------------------------------------------------------- CSV
def _csv_fixture(tmp_path, header: bool) -> Path:
    (tmp_path / "imgs").mkdir()
    cv2.imwrite(str(tmp_path / "imgs" / "one.png"), _grey(10))
    cv2.imwrite(str(tmp_path / "two.png"), _grey(200))
    lines = (["path,text"] if header else []) + [
        "imgs/one.png,A123BC77",
        " two.png , с789мн50 ",
        "only_one_column",
        ",A123BC77",
        "missing.png,A123BC77",
        "two.png,A123ZZ77",
    ]
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("header", [True, False])
def test_csv(tmp_path, header):
    path = _csv_fixture(tmp_path, header)
    samples, report = load_samples(path)
    assert [s.text for s in samples] == ["A123BC77", "C789MH50"]
    assert samples[0].source == str(tmp_path / "imgs" / "one.png")
    np.testing.assert_array_equal(samples[0].image, _grey(10))
    np.testing.assert_array_equal(samples[1].image, _grey(200))
    assert report.loaded == 2
    assert dict(report.skipped) == {"malformed CSV row": 2, "unreadable image": 1, "label outside the alphabet": 1}
    first_bad = 4 if header else 3  # line numbers of the malformed rows
    assert [w for w, why in report.examples if why == "malformed CSV row"] == [
        f"{path}:{first_bad}", f"{path}:{first_bad + 1}"]
    assert "loaded 2, skipped 4" in str(report)


def test_csv_header_any_case(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), _grey())
    (tmp_path / "l.csv").write_text("Path, Text\na.png,A123BC77\n")
    samples, report = load_samples(tmp_path / "l.csv")
    assert [s.text for s in samples] == ["A123BC77"]
    assert sum(report.skipped.values()) == 0


# ---------------------------------------------------------------- missing things
def test_load_samples_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_samples(tmp_path / "nowhere")


def test_load_splits_missing_split_named(tmp_path):
    for split in ("train", "val"):
        (tmp_path / split / "img").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"\['test'\]"):
        load_splits(tmp_path)
    assert not has_dataset(tmp_path)


def test_load_splits_reads_each_split(messy_split):
    root = messy_split.parent
    samples, reports = load_splits(root, splits=("val",))
    assert list(samples) == ["val"] and len(samples["val"]) == 8
    assert isinstance(reports["val"], LoadReport) and reports["val"].loaded == 8


def test_report_examples_are_capped():
    report = LoadReport("x")
    for i in range(30):
        report.skip(f"f{i}", "unreadable image")
    assert report.skipped["unreadable image"] == 30
    assert len(report.examples) == 20
    assert str(report) == "x: loaded 0, skipped 30 (30 unreadable image)"
