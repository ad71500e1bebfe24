"""Scoring tracks against a clip's labels (anpr_ocr.video.score) on hand-made labels and tracks."""

from __future__ import annotations

from anpr_ocr.video.score import assign, score_tracks


def _plate(text: str, expected: bool, box: list[float], frames: int = 10) -> dict:
    return {"text": text, "expected": expected, "boxes": [box] * frames}


LABELS = {"shots": [
    {"first_frame": 0, "last_frame": 9, "plates": [_plate("A111AA11", True, [10, 10, 50, 20])]},
    {"first_frame": 10, "last_frame": 19, "plates": [_plate("B222BB22", True, [0, 0, 40, 10]),
                                                     _plate("C333CC33", False, [100, 100, 110, 103])]},
    {"first_frame": 20, "last_frame": 29, "plates": []},
]}


def _track(text: str, best: int, box: list[float], first: int | None = None, last: int | None = None) -> dict:
    return {"text": text, "best_frame": best, "box": box, "first_frame": best if first is None else first,
            "last_frame": best if last is None else last}


TRACKS = [
    _track("A111AA11", 5, [10, 10, 50, 20], 0, 9),  # shot 0's plate, read
    _track("A111AA17", 8, [11, 10, 51, 20]),  # shot 0's plate again: a fragment
    _track("B222BB22", 12, [0, 0, 40, 10], 9, 15),  # shot 1's plate, read, but begun in shot 0: across a cut
    _track("C333CC33", 15, [100, 100, 110, 103]),  # a plate not expected: not scored
    _track("X", 25, [0, 0, 10, 10]),  # in the shot with no plate
    _track("Y", 12, [300, 300, 310, 310]),  # on nothing labelled
]


def test_assign_by_best_frame_and_overlap():
    assert assign(TRACKS[1], LABELS) == (0, 0)  # IoU 39/41
    assert assign(TRACKS[3], LABELS) == (1, 1)
    assert assign(TRACKS[5], LABELS) is None and assign(TRACKS[4], LABELS) is None
    assert assign(_track("A", 5, [30, 10, 70, 20]), LABELS) == (0, 0)  # IoU 200/600 = 0.33 >= 0.3
    assert assign(_track("A", 5, [30, 10, 70, 20]), LABELS, least_iou=0.4) is None
    assert assign(_track("A", 40, [10, 10, 50, 20]), LABELS) is None  # after the last shot


def test_figures():
    f = score_tracks(TRACKS, LABELS)
    assert (f["shots"], f["shots_read"], f["shot_read_rate"]) == (2, 2, 1.0)
    assert (f["plates"], f["plates_found"], f["plates_read"]) == (2, 2, 2)
    assert (f["tracks"], f["tracks_on_plates"], f["tracks_per_plate"]) == (6, 3, 1.5)
    assert (f["fragments"], f["across_cuts"], f["identity_switches"]) == (1, 1, 2)
    assert (f["false_tracks"], f["empty_shot_tracks"], f["missed"]) == (2, 1, [])

    f = score_tracks(TRACKS[1:], LABELS)  # only the misreading of shot 0's plate is left
    assert (f["shots_read"], f["shot_read_rate"], f["plates_read"], f["missed"]) == (1, 0.5, 1, ["A111AA11"])
    assert (f["tracks_per_plate"], f["fragments"]) == (1.0, 0)
