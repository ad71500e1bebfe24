"""Video figures: a clip built from a split's whole photos, read by `anpr-ocr video CLIP --json`, scored.

`build_clip` writes a split's clip and labels with `video.clips` (reused while its recipe and photos
are the same). `run_command` runs the command in a subprocess, as a user runs it, with --readings, so
`scores` can decide each track's text again from the same readings by the consensus and its two
baselines (`video.consensus`: weighted, best single frame, bare majority) and score all three alike
(`video.score`). Speed: the frames read a second the command reports (its loop: decoding, detector,
reader, tracker), the same over the command's whole wall time (with start-up and model loading), and
frames per second of the process's CPU time (what a machine busy with other work changes least).
`evaluate_clip` gathers one clip's runs (each `every` and thread count), `run_split` builds and
evaluates a split's clip, `evaluate` does so for several splits with the machine's state beside them:
the figures `scripts/video_eval.py` writes to figures/video.json and detect_train.ipynb shows.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

from ..core.cpu import cpu_features
from ..video.clips import ClipConfig, load_clip_photos, write_clip
from ..video.consensus import METHODS
from ..video.score import score_tracks
from .machine import cpu_name, created_now

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding anpr_ocr, for the subprocess's path


class Read(NamedTuple):
    """A reading as the command prints it, for the consensus functions."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def build_clip(split_dir: str | Path, work: str | Path, config: ClipConfig | None = None,
               limit: int | None = None) -> tuple[Path, dict]:
    """The clip of a split's photos (its first `limit` of them, by file name, if given) and its labels,
    written under `work` as <split>.mp4 and <split>.json unless the ones there share this recipe and photos."""
    split_dir, work, config = Path(split_dir), Path(work), config or ClipConfig()
    photos = load_clip_photos(split_dir)[:limit]
    names = [Path(p.path).name for p in photos]
    video, labels_path = work / f"{split_dir.name}.mp4", work / f"{split_dir.name}.json"
    if video.is_file() and labels_path.is_file():
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        if labels.get("config") == json.loads(json.dumps(asdict(config))) and labels.get("photos") == names:
            return video, labels
    labels = write_clip(photos, video, labels_path, config)
    labels["photos"] = names
    labels_path.write_text(json.dumps(labels, ensure_ascii=False) + "\n", encoding="utf-8")
    return video, labels


def clip_summary(labels: dict) -> dict[str, int]:
    """What a clip holds: photos, frames, shots, shots of two photos, shots with no plate, plates to read."""
    shots = labels["shots"]
    return {"photos": len(labels["photos"]), "frames": labels["frames"], "shots": len(shots),
            "pairs": sum(len(s["photos"]) == 2 for s in shots), "empty": sum(not s["plates"] for s in shots),
            "expected_plates": sum(p["expected"] for s in shots for p in s["plates"])}


def run_command(video: str | Path, every: int = 1, threads: int = 1, frames_total: int | None = None,
                options: Sequence[str] = ()) -> tuple[list[dict], dict[str, float]]:
    """`anpr-ocr video VIDEO --json --readings` (plus `options`, e.g. ["--detector", path]) in a subprocess:
    its tracks (also written beside the video, <stem>_every<N>_threads<T>.jsonl), and its speed."""
    video = Path(video)
    cmd = [sys.executable, "-m", "anpr_ocr", "video", str(video), "--json", "--readings", "--every", str(every),
           "--threads", str(threads), *options]
    path = os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    found = re.search(r"(\d+) frames read in ([\d.]+) s: .* \(([\d.]+) s of CPU time\)", done.stderr)
    if found is None:
        raise RuntimeError(f"no speed line in the command's stderr: {done.stderr.strip()}")
    frames, seconds, cpu = int(found.group(1)), float(found.group(2)), float(found.group(3))
    video.with_name(f"{video.stem}_every{every}_threads{threads}.jsonl").write_text(done.stdout, encoding="utf-8")
    tracks = [json.loads(line) for line in done.stdout.splitlines()]
    total = frames if frames_total is None else frames_total
    return tracks, {"frames_read": frames, "loop_seconds": seconds, "fps": rate(frames, seconds),
                    "video_frames_a_second": rate(total, seconds),
                    "cpu_seconds": cpu, "frames_per_cpu_second": rate(frames, cpu),
                    "wall_seconds": round(wall, 2), "fps_wall": rate(frames, wall)}


def rate(count: int, seconds: float) -> float | None:
    """count / seconds to 2 decimals; None where the command printed 0.0 s (a clip of a few frames)."""
    return round(count / seconds, 2) if seconds > 0 else None


def decided(tracks: Sequence[dict], method: str) -> list[dict]:
    """The tracks (with their readings) with their text decided again by one consensus method."""
    decide = METHODS[method]
    return [{**t, "text": decide([Read(r["text"], r["confidence"], tuple(r["char_confidences"]))
                                  for r in t["readings"]]).text} for t in tracks]


def scores(tracks: Sequence[dict], labels: dict) -> dict[str, dict[str, Any]]:
    """`score_tracks` of the tracks with their texts decided by each consensus method (weighted,
    best_frame, majority). Raises if the weighted decision does not give the texts the command printed."""
    if [t["text"] for t in decided(tracks, "weighted")] != [t["text"] for t in tracks]:
        raise ValueError("the readings printed do not give the texts printed")
    return {method: score_tracks(decided(tracks, method), labels) for method in METHODS}


def evaluate_clip(video: str | Path, labels: dict, every: Sequence[int] = (1,), threads: Sequence[int] = (1,),
                  options: Sequence[str] = (), log: bool = True) -> dict[str, Any]:
    """One clip's figures: what it holds (`clip_summary`) and a run of the command for each `every` and
    thread count, with its speed and `scores`. `log` prints a line a run."""
    entry: dict[str, Any] = {"clip": clip_summary(labels), "runs": []}
    for n in every:
        for t in threads:
            tracks, speed = run_command(video, n, t, labels["frames"], options)
            run = {"every": n, "threads": t, **speed, "scores": scores(tracks, labels)}
            entry["runs"].append(run)
            if log:
                print(f"{Path(video).stem}: {run_line(run)}", flush=True)
    return entry


def run_line(run: dict[str, Any]) -> str:
    """One run's figures in a line."""
    w, s = run["scores"]["weighted"], run["scores"]
    return (f"every {run['every']} threads {run['threads']}: {run['fps']} frames read a second "
            f"({run['fps_wall']} over the wall time, {run['video_frames_a_second']} of the video's frames); "
            f"shots read {w['shots_read']}/{w['shots']}, tracks per plate {w['tracks_per_plate']:.3f}, "
            f"identity switches {w['identity_switches']}, false tracks {w['false_tracks']}; "
            f"best frame {s['best_frame']['shots_read']}, majority {s['majority']['shots_read']}")


def run_split(split_dir: str | Path, work: str | Path, config: ClipConfig | None = None, limit: int | None = None,
              every: Sequence[int] = (1,), threads: Sequence[int] = (1,), options: Sequence[str] = (),
              log: bool = True) -> dict[str, Any]:
    """`build_clip` then `evaluate_clip`: a split's figures."""
    video, labels = build_clip(split_dir, work, config, limit)
    return evaluate_clip(video, labels, every, threads, options, log)


def machine() -> dict[str, Any]:
    """The cores, the CPU's name and its vector extensions, and Python's version."""
    features = cpu_features()
    return {"cpus": os.cpu_count(), "model": cpu_name(), "avx2": features["avx2"], "avx512": features["avx512"],
            "python": platform.python_version()}


def evaluate(photos: str | Path, splits: Sequence[str] = ("val", "test"), work: str | Path = "runs/video",
             config: ClipConfig | None = None, limit: int | None = None, every: Sequence[int] = (1,),
             threads: Sequence[int] = (1,), options: Sequence[str] = (), log: bool = True) -> dict[str, Any]:
    """The figures of each split's clip (`run_split`; `photos`/<split> holds annotations.json and the
    images), with the date, the machine and its load average before and after."""
    config = config or ClipConfig()
    result: dict[str, Any] = {"date": created_now(),
                              "machine": machine(), "load_average_before": os.getloadavg(), "clip": asdict(config),
                              "splits": {}}
    for split in splits:
        result["splits"][split] = run_split(Path(photos) / split, work, config, limit, every, threads, options, log)
    result["load_average_after"] = os.getloadavg()
    return result


def readme_line(result: dict[str, Any], split: str, out: str | Path) -> str:
    """The README's video line from one split's every-frame run of `evaluate`'s figures (written to `out`)."""
    entry = result["splits"][split]
    run = next(r for r in entry["runs"] if r["every"] == 1)
    w, s = run["scores"]["weighted"], run["scores"]
    return (f"On a clip of the {entry['clip']['photos']} VKCV {split} photos (`{Path(out).as_posix()}`, "
            f"`scripts/video_eval.py`): {w['shots_read']} of {w['shots']} shots read exactly "
            f"(best frame {s['best_frame']['shots_read']}, majority {s['majority']['shots_read']}), "
            f"{w['tracks_per_plate']:.2f} tracks per plate, {run['fps']:.0f} frames a second "
            f"({run['threads']} torch thread(s), {result['machine']['cpus']} CPUs, load average "
            f"{result['load_average_before'][0]:.1f} before the run).")
