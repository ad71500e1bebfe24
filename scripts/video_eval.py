"""Video figures: build a clip from each split's whole photos, run `anpr-ocr video CLIP --json` on it, score.

    PYTHONPATH=. python scripts/video_eval.py --out figures/video.json      # val and test, every frame
    PYTHONPATH=. python scripts/video_eval.py --splits test --every 1 3 --threads 1 2 --out runs/video/speed.json
    PYTHONPATH=. python scripts/video_eval.py --splits val --size 1920 1080 --option=--one-pass --out runs/video/hd.json

For each split (`--photos`/<split>: annotations.json + img/, default $ANPR_PHOTOS or
../shared/data/vkcv-photos) the clip is written under `--work` (git-ignored runs/video by default;
reused while its recipe and photos are the same) by `anpr_ocr.video.clips`: 1024x576 (`--size`), 25 fps, a
shot of a camera nearing the plate per photo, every fifth shot two photos side by side, one shot with no
plate; `--option` passes an argument on to the command. How it is run and scored (the command in a
subprocess, the three consensus methods, the speed figures, the machine's state) is
`anpr_ocr.research.video_eval.evaluate`; detect_train.ipynb calls
the same. Choices (tracker, consensus) are made on val; test is only reported. With --readme, the
README's video line (between its video markers) is rewritten from the last split's every-frame run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from anpr_ocr.research.video_eval import evaluate, readme_line
from anpr_ocr.video.clips import ClipConfig

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    default_photos = os.environ.get("ANPR_PHOTOS", str(REPO.parent / "shared" / "data" / "vkcv-photos"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=Path, default=Path(default_photos), help="folder of COCO keypoints splits")
    p.add_argument("--splits", nargs="+", default=["val", "test"])
    p.add_argument("--every", type=int, nargs="+", default=[1], help="read every N-th frame (one run each)")
    p.add_argument("--threads", type=int, nargs="+", default=[2], help="torch threads (one run each)")
    p.add_argument("--work", type=Path, default=REPO / "runs" / "video", help="where the clips go (not committed)")
    p.add_argument("--seed", type=int, default=0, help="the clips' seed")
    p.add_argument("--size", type=int, nargs=2, default=[ClipConfig.width, ClipConfig.height], metavar=("W", "H"),
                   help="the clips' frame size, px (default: %(default)s)")
    p.add_argument("--option", action="append", default=[], metavar="ARG",
                   help="an argument for the command, e.g. --option=--one-pass (repeatable)")
    p.add_argument("--out", type=Path, required=True, help="the figures' JSON")
    p.add_argument("--readme", type=Path, help="rewrite this README's video line from the figures")
    args = p.parse_args(argv)
    config = ClipConfig(width=args.size[0], height=args.size[1], seed=args.seed)
    result = evaluate(args.photos, args.splits, args.work, config, every=args.every, threads=args.threads,
                      options=args.option)
    result["options"] = args.option
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    if args.readme is not None:
        text = args.readme.read_text(encoding="utf-8")
        start, end = text.index("<!-- video:start -->\n"), text.index("<!-- video:end -->")
        line = readme_line(result, args.splits[-1], args.out)
        args.readme.write_text(text[:start] + "<!-- video:start -->\n" + line + "\n" + text[end:], encoding="utf-8")
        print(f"rewrote the video line of {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
