"""Tracks scored against a clip's labels (`video.clips`): pure, from what `anpr-ocr video --json` prints.

Each track is given to the labelled plate it sits on: the shot holding its best frame, and of that
shot's plates in view then, the one whose box overlaps the track's box most (IoU at least
`least_iou`). Then:
- `shot_read_rate`: the share of shots with a plate to read (`expected` in the labels) in which every
  such plate has a track that reads it exactly (the clip's shots mostly hold one plate);
- `tracks_per_plate`: tracks on expected plates per expected plate (1.0: each plate followed once);
- `identity_switches`: every track on a plate beyond its first (the plate's track broke and another
  took over) plus every track whose frames reach into another shot (it carried one car's readings
  on to the next car, across a cut);
- `false_tracks`: tracks on no labelled plate (a sign, a grille read as a plate; or a plate the
  photo's annotators left out), `empty_shot_tracks` those in shots with no plate at all.
Tracks on labelled plates that are not expected (too small, or their text unknown) are not scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..detector.net import box_iou


def shot_of(frame: int, labels: dict) -> int | None:
    """The index of the shot holding `frame`, or None."""
    for i, shot in enumerate(labels["shots"]):
        if shot["first_frame"] <= frame <= shot["last_frame"]:
            return i
    return None


def assign(track: dict[str, Any], labels: dict, least_iou: float = 0.3) -> tuple[int, int] | None:
    """(shot index, plate index) of the labelled plate a track sits on, or None."""
    s = shot_of(track["best_frame"], labels)
    if s is None:
        return None
    shot = labels["shots"][s]
    offset = track["best_frame"] - shot["first_frame"]
    overlaps = [(box_iou(tuple(track["box"]), tuple(p["boxes"][offset])), j) for j, p in enumerate(shot["plates"])
                if p["boxes"][offset] is not None]
    best = max(overlaps, default=(0.0, -1))
    return (s, best[1]) if best[0] >= least_iou else None


def score_tracks(tracks: Sequence[dict[str, Any]], labels: dict, least_iou: float = 0.3) -> dict[str, Any]:
    """The clip's figures for these tracks (dicts with text, first_frame, last_frame, best_frame, box)."""
    on: dict[tuple[int, int], list[dict]] = defaultdict(list)
    false_tracks, empty_shot_tracks, crossing = 0, 0, 0
    for t in tracks:
        where = assign(t, labels, least_iou)
        if where is None:
            false_tracks += 1
            s = shot_of(t["best_frame"], labels)
            empty_shot_tracks += s is not None and not labels["shots"][s]["plates"]
        else:
            on[where].append(t)
        crossing += shot_of(t["first_frame"], labels) != shot_of(t["last_frame"], labels)
    expected = [(s, j) for s, shot in enumerate(labels["shots"]) for j, p in enumerate(shot["plates"]) if p["expected"]]
    read = {(s, j) for s, j in expected
            if any(t["text"] == labels["shots"][s]["plates"][j]["text"] for t in on[(s, j)])}
    shots = sorted({s for s, _ in expected})
    shots_read = [s for s in shots if all((s, j) in read for s2, j in expected if s2 == s)]
    on_expected = sum(len(on[p]) for p in expected)
    fragments = sum(max(0, len(on[p]) - 1) for p in expected)
    return {
        "shots": len(shots), "shots_read": len(shots_read),
        "shot_read_rate": len(shots_read) / len(shots) if shots else 0.0,
        "plates": len(expected), "plates_found": sum(1 for p in expected if on[p]), "plates_read": len(read),
        "tracks": len(tracks), "tracks_on_plates": on_expected,
        "tracks_per_plate": on_expected / len(expected) if expected else 0.0,
        "identity_switches": fragments + crossing, "fragments": fragments, "across_cuts": crossing,
        "false_tracks": false_tracks, "empty_shot_tracks": empty_shot_tracks,
        "missed": [labels["shots"][s]["plates"][j]["text"] for s, j in expected if (s, j) not in read],
    }
