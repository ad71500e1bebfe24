"""The tracker's matching and closing rules (anpr_ocr.video.track) on hand-made boxes, values computed by hand."""

from __future__ import annotations

import pytest

from anpr_ocr.video.track import Detection, Track, Tracker, TrackerConfig, greedy_match


def strong(x0: float, y0: float, x1: float, y1: float, tag: str = "") -> Detection:
    return Detection((x0, y0, x1, y1), True, tag)


def weak(x0: float, y0: float, x1: float, y1: float, tag: str = "") -> Detection:
    return Detection((x0, y0, x1, y1), False, tag)


def tags(track: Track) -> list[str]:
    return [d.payload for _, d in track.hits]


def test_velocity_moves_the_predicted_box():
    """(0,0,10,10) at frame 0, (2,0,12,10) at 1: velocity (2,0,2,0) a frame, so frame 3 predicts (6,0,16,10).
    A third box (5,0,15,10) at frame 2 steps 3: velocity 0.6 * 2 + 0.4 * 3 = 2.4 with momentum 0.6."""
    t = Track(1)
    t.add(0, strong(0, 0, 10, 10), 0.6)
    assert t.velocity == (0.0, 0.0, 0.0, 0.0) and t.predict(5) == (0, 0, 10, 10)
    t.add(1, strong(2, 0, 12, 10), 0.6)
    assert t.velocity == (2.0, 0.0, 2.0, 0.0)
    assert t.predict(3) == (6.0, 0.0, 16.0, 10.0)
    t.add(2, strong(5, 0, 15, 10), 0.6)
    assert t.velocity == pytest.approx((2.4, 0.0, 2.4, 0.0))
    t.add(4, strong(9, 0, 19, 10), 0.6)  # two frames later: a step of 2 a frame
    assert t.velocity == pytest.approx((0.6 * 2.4 + 0.4 * 2, 0.0, 0.6 * 2.4 + 0.4 * 2, 0.0))


def test_a_moving_plate_is_followed_where_a_still_box_would_lose_it():
    """A plate moving 8 px a frame, 10 px wide: consecutive boxes overlap by IoU 2/18 = 0.11 < 0.2, so
    without motion it would start a new track each frame; the predicted box overlaps fully."""
    tracker = Tracker()
    tracker.update(0, [strong(0, 0, 10, 10, "a")])
    tracker.update(1, [strong(8, 0, 18, 10, "b")])  # IoU 2/18 with (0,0,10,10): a new track
    assert [tags(t) for t in tracker.live] == [["a"], ["b"]]

    tracker = Tracker()
    tracker.update(0, [strong(0, 0, 10, 10, "a")])
    tracker.update(1, [strong(6, 0, 16, 10, "b")])  # IoU 4/16 = 0.25: matched, velocity 6
    tracker.update(2, [strong(14, 0, 24, 10, "c")])  # predicted (12,0,22,10): IoU 8/12
    tracker.update(3, [strong(22, 0, 32, 10, "d")])  # velocity 0.6*6+0.4*8 = 6.8: predicted (20.8,..): matched
    assert [tags(t) for t in tracker.live] == [["a", "b", "c", "d"]]


def test_two_stages_strong_then_weak():
    """A weak detection keeps a followed plate only at IoU >= 0.5, and never starts a track; a strong one
    matches from IoU 0.2 and starts a track when it matches none."""
    tracker = Tracker()
    tracker.update(0, [strong(0, 0, 10, 10, "a"), strong(100, 0, 110, 10, "p")])
    # frame 1: the first plate weakly at IoU 6/14 = 0.43 (< 0.5: not matched); the second weakly at 8/12 = 0.67
    tracker.update(1, [weak(4, 0, 14, 10, "a1"), weak(102, 0, 112, 10, "p1")])
    assert [tags(t) for t in tracker.live] == [["a"], ["p", "p1"]]
    # frame 2: a strong detection at IoU 40/160 = 0.25 with the first plate's box is matched; a weak one far
    # away is dropped
    tracker.update(2, [strong(6, 0, 16, 10, "a2"), weak(300, 0, 310, 10, "x")])
    assert [tags(t) for t in tracker.live] == [["a", "a2"], ["p", "p1"]]
    # frame 3: a strong detection matching nothing starts a track with the next number
    tracker.update(3, [strong(500, 500, 510, 510, "n")])
    assert [t.id for t in tracker.live] == [1, 2, 3] and tags(tracker.live[2]) == ["n"]


def test_strong_detections_are_matched_before_weak_ones():
    """One track, a strong and a weak detection both overlapping it: the strong one takes it even when the
    weak one overlaps more."""
    tracker = Tracker()
    tracker.update(0, [strong(0, 0, 10, 10, "a")])
    tracker.update(1, [weak(0, 0, 10, 10, "w"), strong(3, 0, 13, 10, "s")])  # IoU 1.0 and 7/13 = 0.54
    assert [tags(t) for t in tracker.live] == [["a", "s"]]


def test_greedy_match_takes_the_highest_overlap_first():
    """Track 0 overlaps detection 0 by 0.6 and detection 1 by 0.8; track 1 overlaps detection 1 by 0.76 and
    detection 0 by 0.33. The highest pair (0, 1) goes first, so track 1 gets detection 0 (greedy, not the
    assignment of the largest total); pairs under the least IoU are not made."""
    t0, t1 = Track(1), Track(2)
    t0.add(0, strong(0, 0, 10, 10), 0.6)
    t1.add(0, strong(2.5, 0, 12.5, 10), 0.6)
    d0, d1 = strong(-2.5, 0, 7.5, 10), strong(1.1111111, 0, 11.1111111, 10)
    # IoUs: t0-d0 75/125 = 0.6, t0-d1 88.9/111.1 = 0.8, t1-d1 86.1/113.9 = 0.76, t1-d0 50/150 = 0.33
    assert greedy_match([t0, t1], [d0, d1], 1, 0.2) == [(0, 1), (1, 0)]
    assert greedy_match([t0, t1], [d0, d1], 1, 0.7) == [(0, 1)]


def test_a_track_is_kept_through_misses_and_closed_after_max_lost():
    tracker = Tracker(TrackerConfig(max_lost=2))
    tracker.update(0, [strong(0, 0, 10, 10, "a")])
    assert tracker.update(1, []) == [] and tracker.update(2, []) == []  # unseen 1, 2 updates: kept
    assert tracker.update(3, [strong(0, 0, 10, 10, "b")]) == []  # seen again: the count starts over
    assert tags(tracker.live[0]) == ["a", "b"]
    tracker.update(4, [])
    tracker.update(5, [])
    closed = tracker.update(6, [strong(50, 50, 60, 60, "c")])  # unseen 3 updates: closed; c starts track 2
    assert [tags(t) for t in closed] == [["a", "b"]]
    assert [t.id for t in tracker.live] == [2]
    assert [t.id for t in tracker.close_all()] == [2] and tracker.live == []


def test_plates_side_by_side_are_separate_tracks():
    """Two plates in one picture, both moving right and growing: two tracks throughout."""
    tracker = Tracker()
    for f in range(6):
        left, right = strong(10 + 3 * f, 50, 60 + 5 * f, 62, f"L{f}"), strong(300 + 3 * f, 60, 350 + 5 * f, 72, f"R{f}")
        tracker.update(f, [left, right])
    assert [tags(t) for t in tracker.live] == [[f"L{f}" for f in range(6)], [f"R{f}" for f in range(6)]]


def test_frames_must_come_in_order():
    tracker = Tracker()
    tracker.update(5, [])
    with pytest.raises(ValueError, match="frame 5"):
        tracker.update(5, [])
