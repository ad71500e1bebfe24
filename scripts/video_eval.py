"""Video figures: build a clip from each split's whole photos, run `anpr-ocr video CLIP --json` on it, score.

    PYTHONPATH=. python scripts/video_eval.py --out figures/video.json      # val and test, every frame
    PYTHONPATH=. python scripts/video_eval.py --splits test --every 1 3 --threads 1 2 --out runs/video/speed.json

For each split (`--photos`/<split>: annotations.json + img/, default $ANPR_PHOTOS or
../shared/data/vkcv-photos) the clip is written under `--work` (git-ignored runs/video by default;
reused while its recipe and photos are the same) by `anpr_ocr.video.clips`: 1024x576, 25 fps, a shot
of a camera nearing the plate per photo, every fifth shot two photos side by side, one shot with no
plate. The command runs in a subprocess, as a user runs it, with --readings, so each track's text
can be decided again from the same readings by the baselines (`video.consensus`: best single frame,
bare majority) and all three scored alike (`video.score`). Speed: the frames read a second the
command reports (its loop: decoding, detector, reader, tracker), the same over the command's whole
wall time (with start-up and model loading), and frames per second of the process's CPU time (what
a machine busy with other work changes least). The machine's state (CPU, cores, load average before
and after) is written beside the figures. Choices (tracker, consensus) are made on val; test is only
reported. With --readme, the README's video line (between its video markers) is rewritten from the
first split's first run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from anpr_ocr.video.clips import ClipConfig, load_clip_photos, write_clip
from anpr_ocr.video.consensus import METHODS
from anpr_ocr.video.score import score_tracks

REPO = Path(__file__).resolve().parents[1]


class Read(NamedTuple):  # a reading as the command prints it, for the consensus functions
    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def build(split_dir: Path, work: Path, config: ClipConfig) -> tuple[Path, dict]:
    """The split's clip and labels, written unless the ones there share this recipe and these photos."""
    photos = load_clip_photos(split_dir)
    video, labels_path = work / f"{split_dir.name}.mp4", work / f"{split_dir.name}.json"
    if video.is_file() and labels_path.is_file():
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        if labels.get("config") == json.loads(json.dumps(asdict(config))) and \
                labels.get("photos") == [Path(p.path).name for p in photos]:
            return video, labels
    labels = write_clip(photos, video, labels_path, config)
    labels["photos"] = [Path(p.path).name for p in photos]
    labels_path.write_text(json.dumps(labels, ensure_ascii=False) + "\n", encoding="utf-8")
    return video, labels


def run_command(video: Path, every: int, threads: int, frames_total: int) -> tuple[list[dict], dict[str, float]]:
    """`anpr-ocr video VIDEO --json --readings`: its tracks (also written beside the video), and its speed."""
    cmd = [sys.executable, "-m", "anpr_ocr", "video", str(video), "--json", "--readings", "--every", str(every),
           "--threads", str(threads)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    found = re.search(r"(\d+) frames read in ([\d.]+) s: .* \(([\d.]+) s of CPU time\)", done.stderr)
    if found is None:
        raise SystemExit(f"no speed line in the command's stderr: {done.stderr.strip()}")
    frames, seconds, cpu = int(found.group(1)), float(found.group(2)), float(found.group(3))
    video.with_name(f"{video.stem}_every{every}_threads{threads}.jsonl").write_text(done.stdout, encoding="utf-8")
    tracks = [json.loads(line) for line in done.stdout.splitlines()]
    return tracks, {"frames_read": frames, "loop_seconds": seconds, "fps": round(frames / seconds, 2),
                    "video_frames_a_second": round(frames_total / seconds, 2),
                    "cpu_seconds": cpu, "frames_per_cpu_second": round(frames / cpu, 2),
                    "wall_seconds": round(wall, 2), "fps_wall": round(frames / wall, 2)}


def decided(tracks: list[dict], method: str) -> list[dict]:
    """The tracks with their text decided again from their readings by one consensus method."""
    decide = METHODS[method]
    return [{**t, "text": decide([Read(r["text"], r["confidence"], tuple(r["char_confidences"]))
                                  for r in t["readings"]]).text} for t in tracks]


def machine() -> dict[str, Any]:
    cpu = {}
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu["model"] = re.search(r"model name\s*:\s*(.*)", info).group(1)
        cpu["avx2"] = " avx2" in info
        cpu["avx512"] = " avx512f" in info
    except (OSError, AttributeError):
        pass
    return {"cpus": os.cpu_count(), **cpu, "python": platform.python_version()}


def main(argv: Sequence[str] | None = None) -> int:
    default_photos = os.environ.get("ANPR_PHOTOS", str(REPO.parent / "shared" / "data" / "vkcv-photos"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=Path, default=Path(default_photos), help="folder of COCO keypoints splits")
    p.add_argument("--splits", nargs="+", default=["val", "test"])
    p.add_argument("--every", type=int, nargs="+", default=[1], help="read every N-th frame (one run each)")
    p.add_argument("--threads", type=int, nargs="+", default=[2], help="torch threads (one run each)")
    p.add_argument("--work", type=Path, default=REPO / "runs" / "video", help="where the clips go (not committed)")
    p.add_argument("--seed", type=int, default=0, help="the clips' seed")
    p.add_argument("--out", type=Path, required=True, help="the figures' JSON")
    p.add_argument("--readme", type=Path, help="rewrite this README's video line from the figures")
    args = p.parse_args(argv)
    config = ClipConfig(seed=args.seed)
    result: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
        "load_average_before": os.getloadavg(), "clip": asdict(config), "splits": {}}
    for split in args.splits:
        video, labels = build(args.photos / split, args.work, config)
        entry: dict[str, Any] = {
            "clip": {"photos": len(labels["photos"]), "frames": labels["frames"], "shots": len(labels["shots"]),
                     "pairs": sum(len(s["photos"]) == 2 for s in labels["shots"]),
                     "empty": sum(not s["plates"] for s in labels["shots"]),
                     "expected_plates": sum(p["expected"] for s in labels["shots"] for p in s["plates"])},
            "runs": []}
        for every in args.every:
            for threads in args.threads:
                tracks, speed = run_command(video, every, threads, labels["frames"])
                again = decided(tracks, "weighted")
                if [t["text"] for t in again] != [t["text"] for t in tracks]:
                    raise SystemExit("the readings printed do not give the texts printed")
                scores = {method: score_tracks(decided(tracks, method), labels) for method in METHODS}
                run = {"every": every, "threads": threads, **speed, "scores": scores}
                entry["runs"].append(run)
                w = scores["weighted"]
                print(f"{split} every {every} threads {threads}: {speed['fps']} frames read a second "
                      f"({speed['fps_wall']} over the wall time, {speed['video_frames_a_second']} of the video's "
                      f"frames); shots read {w['shots_read']}/{w['shots']}, "
                      f"tracks per plate {w['tracks_per_plate']:.3f}, identity switches {w['identity_switches']}, "
                      f"false tracks {w['false_tracks']}; best frame {scores['best_frame']['shots_read']}, "
                      f"majority {scores['majority']['shots_read']}", flush=True)
        result["splits"][split] = entry
    result["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    if args.readme is not None:
        write_readme(args.readme, args.out, result, args.splits[-1])
        print(f"rewrote the video line of {args.readme}")
    return 0


def write_readme(readme: Path, out: Path, result: dict, split: str) -> None:
    """The README's line between <!-- video:start --> and <!-- video:end -->, from one split's every-frame run."""
    entry = result["splits"][split]
    run = next(r for r in entry["runs"] if r["every"] == 1)
    w, s = run["scores"]["weighted"], run["scores"]
    line = (f"On a clip of the {entry['clip']['photos']} VKCV {split} photos (`{out.as_posix()}`, "
            f"`scripts/video_eval.py`): {w['shots_read']} of {w['shots']} shots read exactly "
            f"(best frame {s['best_frame']['shots_read']}, majority {s['majority']['shots_read']}), "
            f"{w['tracks_per_plate']:.2f} tracks per plate, {run['fps']:.0f} frames a second "
            f"({run['threads']} torch thread(s), a busy 2-core machine).")
    text = readme.read_text(encoding="utf-8")
    start, end = text.index("<!-- video:start -->\n"), text.index("<!-- video:end -->")
    readme.write_text(text[:start] + "<!-- video:start -->\n" + line + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
