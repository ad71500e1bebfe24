"""read_video and `anpr-ocr video` end to end on small clips made from real photos (skipped without
../shared or $ANPR_PHOTOS), and the frame source on its own."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_ocr.__main__ import main
from anpr_ocr.research.video_eval import build_clip, evaluate_clip
from anpr_ocr.video.clips import ClipConfig, clip_labels, load_clip_photos, plan_clip, render_clip, write_clip
from anpr_ocr.video.frames import VideoFrames
from anpr_ocr.video.score import score_tracks
from anpr_ocr.video.stream import PlateTrack, read_video

SMALL = ClipConfig(width=640, height=360, shot_frames=(20, 20), pair_every=3, empty_at=-1, seed=1)
FIELDS = {"text", "confidence", "valid", "first_frame", "last_frame", "first_time", "last_time", "frames", "box"}


@pytest.fixture(scope="module")
def photos(photos_root):
    """Four val photos: shots of one plate, one plate, then the last two side by side."""
    return load_clip_photos(photos_root / "val")[:4]


@pytest.fixture(scope="module")
def clip(photos):
    shots = plan_clip(photos, SMALL)
    return list(render_clip(photos, shots, SMALL)), clip_labels(photos, shots, SMALL)


def _expected(labels: dict) -> list[str]:
    return [p["text"] for shot in labels["shots"] for p in shot["plates"] if p["expected"]]


def test_the_clip_holds_the_plates_of_its_photos(photos, clip):
    frames, labels = clip
    assert len(frames) == 60 and frames[0].shape == (360, 640, 3)
    assert [(s["first_frame"], s["last_frame"]) for s in labels["shots"]] == [(0, 19), (20, 39), (40, 59)]
    assert [len(s["photos"]) for s in labels["shots"]] == [1, 1, 2]
    assert sorted(_expected(labels)) == sorted(p.plates[0].text for p in photos)
    for shot in labels["shots"]:  # the camera nears: each plate ends wider than it starts
        for plate in shot["plates"]:
            first, last = plate["boxes"][0], plate["boxes"][-1]
            assert last[2] - last[0] >= 1.49 * (first[2] - first[0])  # the zoom is at least 1.5x


def test_read_video_reads_each_plate_once(clip):
    frames, labels = clip
    tracks = list(read_video(frames, fps=25))
    assert all(isinstance(t, PlateTrack) for t in tracks)
    figures = score_tracks([t.summary() for t in tracks], labels)
    assert (figures["shots_read"], figures["shots"]) == (3, 3), figures
    assert figures["tracks_per_plate"] == 1.0 and figures["false_tracks"] == 0 and figures["identity_switches"] == 0
    assert sorted(t.text for t in tracks) == sorted(_expected(labels))
    for t in tracks:
        frames_read = [f.frame for f in t.readings]
        assert (t.first_frame, t.last_frame, t.frames) == (frames_read[0], frames_read[-1], len(frames_read))
        assert (t.first_time, t.last_time) == (t.first_frame / 25, t.last_frame / 25)
        assert t.best_frame in frames_read and t.valid and t.plate_type == "private"
        best = next(f.reading for f in t.readings if f.frame == t.best_frame)
        assert best.text == t.text and (t.box, t.corners) == (best.box, best.corners)
        assert best.confidence == max(f.reading.confidence for f in t.readings if f.reading.text == t.text)


@pytest.fixture(scope="module")
def clip_file(photos, tmp_path_factory):
    """The first two shots written as an mp4, with their labels."""
    folder = tmp_path_factory.mktemp("clip")
    labels = write_clip(photos[:2], folder / "clip.mp4", folder / "clip.json", SMALL)
    return folder / "clip.mp4", labels


def test_cli_json_every_second_frame_and_drawing(clip_file, capsys, tmp_path):
    path, labels = clip_file
    drawn = tmp_path / "drawn.mp4"
    assert main(["video", str(path), "--json", "--every", "2", "--draw", str(drawn)]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in rows] == _expected(labels)
    for r in rows:
        assert FIELDS <= r.keys() and "readings" not in r
        assert r["first_frame"] % 2 == 0 and r["last_frame"] % 2 == 0 and r["frames"] <= 10
        assert len(r["box"]) == 4 and r["first_time"] == r["first_frame"] / 25
    assert "20 frames read" in err and "frames a second" in err
    capture = cv2.VideoCapture(str(drawn))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12.5)
    capture.release()


def test_cli_text_lines_and_readings(clip_file, capsys):
    path, labels = clip_file
    assert main(["video", str(path), "--every", "3", "--quiet"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines] == _expected(labels) and err == ""
    assert main(["video", str(path), "--json", "--readings", "--every", "3", "--quiet"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [len(r["readings"]) for r in rows] == [r["frames"] for r in rows]
    assert all(f["frame"] % 3 == 0 for r in rows for f in r["readings"])


def test_cli_reports_a_missing_video(tmp_path, capsys):
    assert main(["video", str(tmp_path / "none.mp4")]) == 1
    assert "no video file" in capsys.readouterr().err


def test_video_frames_every_and_times(clip_file):
    path, _ = clip_file
    with VideoFrames(path, every=3) as frames:
        got = [(index, seconds, image.shape) for index, seconds, image in frames]
        assert frames.total == 40 and frames.fps == 25
    assert [g[0] for g in got] == list(range(0, 40, 3))
    assert [g[1] for g in got] == [i / 25 for i in range(0, 40, 3)] and got[0][2] == (360, 640, 3)
    # stopped early: the decoding thread ends and the capture is released
    frames = VideoFrames(path)
    for index, _, _ in frames:
        if index == 2:
            break
    images = [np.full((8, 8), i, np.uint8) for i in range(5)]
    assert [(i, t, int(im[0, 0])) for i, t, im in VideoFrames(images, every=2, fps=10)] == \
        [(0, 0.0, 0), (2, 0.2, 2), (4, 0.4, 4)]


def test_video_frames_rejects_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError):
        VideoFrames(tmp_path / "missing.mp4")
    (tmp_path / "not_a_video.mp4").write_text("hello")
    with pytest.raises(OSError, match="cannot open"):
        VideoFrames(tmp_path / "not_a_video.mp4")
    with pytest.raises(TypeError):
        VideoFrames(3.5)
    with pytest.raises(ValueError):
        VideoFrames([], every=0)


def test_evaluate_clip_scores_the_commands_tracks_by_each_method(clip_file):
    """research.video_eval runs `anpr-ocr video` in a subprocess; its figures are checked against the
    clip counted here, read_video run in this process, and the baselines decided here by hand."""
    path, labels = clip_file
    labels = {**labels, "photos": ["a.jpg", "b.jpg"]}
    entry = evaluate_clip(path, labels, every=[3], threads=[1], log=False)
    assert entry["clip"] == {"photos": 2, "frames": 40, "shots": 2, "pairs": 0, "empty": 0,
                             "expected_plates": len(_expected(labels))}
    (run,) = entry["runs"]
    assert (run["every"], run["threads"], run["frames_read"]) == (3, 1, len(range(0, 40, 3)))
    assert run["fps"] == (round(run["frames_read"] / run["loop_seconds"], 2) if run["loop_seconds"] else None)
    assert run["wall_seconds"] >= run["loop_seconds"]
    tracks = list(read_video(path, every=3))
    assert run["scores"]["weighted"] == score_tracks([t.summary() for t in tracks], labels)
    best = [{**t.summary(), "text": max(t.readings, key=lambda f: f.reading.confidence).reading.text} for t in tracks]
    assert run["scores"]["best_frame"] == score_tracks(best, labels)
    common = [{**t.summary(), "text": max(texts := [f.reading.text for f in t.readings], key=texts.count)}
              for t in tracks]
    assert run["scores"]["majority"] == score_tracks(common, labels)
    assert run["scores"]["weighted"]["shots"] == 2
    printed = (path.parent / "clip_every3_threads1.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in printed] == [t.text for t in tracks]


def test_build_clip_reuses_a_clip_of_the_same_recipe_and_photos(photos_root, tmp_path):
    video, labels = build_clip(photos_root / "val", tmp_path, SMALL, limit=2)
    names = [Path(p.path).name for p in load_clip_photos(photos_root / "val")[:2]]
    assert labels["photos"] == names and (video.name, labels["video"]) == ("val.mp4", "val.mp4")
    assert labels["frames"] == sum(s.frames for s in plan_clip(load_clip_photos(photos_root / "val")[:2], SMALL))
    written = video.stat().st_mtime_ns
    assert build_clip(photos_root / "val", tmp_path, SMALL, limit=2) == (video, json.loads(json.dumps(labels)))
    assert video.stat().st_mtime_ns == written
    _, one = build_clip(photos_root / "val", tmp_path, SMALL, limit=1)  # other photos: written again
    assert one["photos"] == names[:1] and len(one["shots"]) == 1
