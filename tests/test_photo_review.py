"""The detector notebook's rules as package functions: failures on photos, timing a photo, the threshold choice."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from anpr_ocr.detector.photos import Photo, Plate, load_photos
from anpr_ocr.research import photo_review
from anpr_ocr.research.photo_review import end_to_end_scores, failures, paired_by_seed, photo_speed, time_per_photo


def _plate(x0: float, y0: float, text: str | None) -> Plate:
    """An axis-aligned 100 x 20 px plate with its top-left corner at (x0, y0)."""
    return Plate(np.array([[x0, y0], [x0 + 100, y0], [x0 + 100, y0 + 20], [x0, y0 + 20]], float), text)


def _read(box: tuple, text: str) -> SimpleNamespace:
    return SimpleNamespace(box=box, text=text)


def test_failures_name_missed_plates_and_extra_readings():
    grey = np.zeros((10, 10), np.uint8)
    photos = [Photo("right", grey, [_plate(0, 0, "A123BC77")]),
              Photo("misread", grey, [_plate(0, 0, "A123BC77"), _plate(300, 0, "E456KM199")]),
              Photo("extra", grey, [_plate(0, 0, "A123BC77")]),
              Photo("nothing read", grey, [_plate(0, 0, "A123BC77")]),
              Photo("shifted", grey, [_plate(0, 0, "A123BC77")])]
    readings = [[_read((0, 0, 100, 20), "A123BC77")],
                [_read((0, 0, 100, 20), "A123BC77"), _read((300, 0, 400, 20), "E456KM198")],
                [_read((0, 0, 100, 20), "A123BC77"), _read((500, 500, 600, 520), "X000XX00")],
                [],
                # IoU with the plate: 40 x 20 shared of 160 x 20 in all = 0.25, under the 0.3 match
                [_read((60, 0, 160, 20), "A123BC77")]]
    found = failures(photos, readings)
    assert [(f.index, f.name) for f in found] == [(1, "misread"), (2, "extra"), (3, "nothing read"), (4, "shifted")]
    assert found[0].missed == {"E456KM199": "E456KM198"} and found[0].extra == []
    assert found[1].missed == {} and found[1].extra == ["X000XX00"]
    assert found[2].missed == {"A123BC77": None} and found[2].read == []
    assert found[3].missed == {"A123BC77": "A123BC77"} and found[3].extra == []  # overlapping, so not extra
    assert found[0].annotated == ["A123BC77", "E456KM199"]


def test_time_per_photo_interleaves_kinds_and_takes_median_and_p90(monkeypatch):
    """A fake clock that each call advances by its item's value (ms): the statistics are known exactly (only the
    timed calls count)."""
    now = [0.0]
    calls = []

    def read(item):
        calls.append(item)
        now[0] += item / 1000

    monkeypatch.setattr(photo_review.time, "perf_counter", lambda: now[0])
    inputs = {"array": [1.0, 2.0, 3.0, 4.0, 5.0], "file": [10.0, 30.0, 20.0, 50.0, 40.0]}
    stats = time_per_photo(read, inputs)
    # warm-up, then photo by photo, each read twice in a row (the second call timed)
    assert calls == [1.0, 10.0] + [v for a, f in zip(inputs["array"], inputs["file"]) for v in (a, a, f, f)]
    assert stats == pytest.approx({"array_median_ms": 3.0, "array_p90_ms": 4.6,  # numpy's linear p90 of 1..5
                                   "array_mean_ms": 3.0, "file_median_ms": 30.0, "file_p90_ms": 46.0,
                                   "file_mean_ms": 30.0})


def test_the_threshold_reads_most_plates_less_extra_readings_ties_to_more_found_then_the_higher():
    from anpr_ocr.train.detector import choose_threshold

    sweep = [{"threshold": 0.2, "read_rate": 0.875, "found_rate": 1.0, "extra_per_photo": 0.5},  # 0.375
             {"threshold": 0.3, "read_rate": 0.75, "found_rate": 0.875, "extra_per_photo": 0.25},  # 0.5
             {"threshold": 0.4, "read_rate": 0.625, "found_rate": 0.875, "extra_per_photo": 0.125},  # 0.5: a tie
             {"threshold": 0.5, "read_rate": 0.375, "found_rate": 0.5, "extra_per_photo": 0.0}]  # 0.375
    assert choose_threshold(sweep) == 0.4  # read less extra tie (exact in binary), found ties: the higher
    assert choose_threshold(sweep[:2]) == 0.3
    more_found = [dict(sweep[1], found_rate=1.0), sweep[2]]
    assert choose_threshold(more_found) == 0.3  # read less extra ties, 0.3 finds more
    with pytest.raises(ValueError):
        choose_threshold([])


def test_end_to_end_scores_count_found_before_the_floors(photos_root):
    """Floors no reading can pass report nothing, yet find what floors of 0 find, every found plate reported."""
    photos = load_photos(photos_root / "test")[:4]
    none = end_to_end_scores(photos, threshold=0.3, min_reading_confidence=1.01, min_valid_reading_confidence=1.01)
    every = end_to_end_scores(photos, threshold=0.3, min_reading_confidence=0, min_valid_reading_confidence=0)
    assert none["found"] == every["found"] == every["reported"] >= 3
    assert (none["reported"], none["read"], none["extra"]) == (0, 0, 0)
    assert every["plates"] == sum(len(p.plates) for p in photos)


def test_photo_speed_times_arrays_and_files(photos_root):
    photos = load_photos(photos_root / "test")[:3]
    speed = photo_speed(photos, limit=2)
    assert speed["photos"] == 2 and speed["threads"] >= 1
    assert set(speed) == {"photos", "threads", "array_median_ms", "array_p90_ms", "array_mean_ms", "file_median_ms",
                          "file_p90_ms", "file_mean_ms"}
    assert 0 < speed["array_median_ms"] <= speed["array_p90_ms"]


def test_paired_by_seed_totals_and_spreads_the_differences_from_the_baseline():
    rows = [{"fp32": {"found": 10, "read": 8}, "int8": {"found": 10, "read": 9}, "other": {"found": 9, "read": 8}},
            {"fp32": {"found": 10, "read": 9}, "int8": {"found": 10, "read": 6}, "other": {"found": 8, "read": 9}}]
    paired = paired_by_seed(rows, "fp32", ("found", "read"))
    assert set(paired) == {"int8, found", "int8, read", "other, found", "other, read"}
    assert paired["int8, found"] == {"total": 0, "mean": 0.0, "sd": 0.0}
    # int8 reads +1 then -3: total -2, mean -1, sample sd sqrt(((1+1)^2 + (-3+1)^2) / 1) = sqrt(8)
    assert paired["int8, read"]["total"] == -2 and paired["int8, read"]["mean"] == -1.0
    assert paired["int8, read"]["sd"] == pytest.approx(8 ** 0.5)
    assert paired["other, found"] == {"total": -3, "mean": -1.5, "sd": pytest.approx(0.5 ** 0.5)}
    assert paired_by_seed(rows[:1], "fp32", ("read",))["int8, read"] == {"total": 1, "mean": 1.0, "sd": None}
