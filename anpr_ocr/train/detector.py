"""Training the plate detector: `fit_detector(config, train, val)`, selected on val photos.

Each epoch draws `crops_per_epoch` augmented crops of the training photos (`scenes.PlateScenes`:
scale, crop, rotation, perspective, light, blur, noise, and rendered plates pasted in with a random
perspective), trains with focal loss on the centre heatmap plus L1 on the corner offsets, then
scores the val photos through the inference path (`detector.net.detect_batch`) and keeps the best
checkpoint by val AP (mean of AP@0.5 and AP@0.75; ties by corner error) as best.pth.

The learning rate follows one one-cycle curve (warm-up over the first tenth, cosine decay after)
over the run's progress: the larger of the share of `epochs` steps done and the share of `minutes`
of wall time spent (validation included); the run ends when either is used up. On a shared CPU
whose speed varies several-fold from hour to hour, a time budget is what keeps a run within its
hour; the epochs it reached are in its history. With `minutes=None` the run is epochs-bound and
repeatable. last.pth, written after every epoch, holds the optimiser, progress and history, so
`resume=True` goes on where a run of the same recipe stopped; a finished run trains nothing more
and returns its best.pth.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..core.files import save_atomic
from ..detector.checkpoint import read_detector_training_state, save_detector
from ..detector.measures import evaluate_detector
from ..detector.net import DetectorConfig, PlateDetector, focal_loss, offset_loss
from ..reader.model import count_parameters
from .scenes import Photo, PlateScenes
from .synth import PlateRenderer, SynthConfig


@dataclass
class DetectConfig:
    """Everything a detector run depends on; its defaults are the committed recipe."""

    out_dir: str = "runs/detector"
    model: DetectorConfig = field(default_factory=DetectorConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    epochs: int = 150  # the committed run's length (its wall time: docs/experiments.md)
    minutes: float | None = 60.0  # wall-time cap of the whole run, for a busy machine (None: epochs only)
    crops_per_epoch: int = 800
    crop_size: int = 320  # square training crops, px of the net's input
    paste_prob: float = 0.5  # share of crops that get 1-2 rendered plates pasted in
    batch_size: int = 16
    lr: float = 4e-3
    weight_decay: float = 1e-3
    offset_weight: float = 2.0
    seed: int = 0
    num_workers: int = 1
    threads: int = 2
    resume: bool = False

    def to_dict(self) -> dict:
        """The config as plain JSON-ready values, the detector's architecture included."""
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d


@dataclass
class DetectFitResult:
    best_path: Path
    history: list[dict]
    best: dict
    wall_seconds: float
    parameters: int


def fit_detector(config: DetectConfig, train: list[Photo], val: list[Photo]) -> DetectFitResult:
    """Train by `config` on `train` photos, select on `val` photos; writes under config.out_dir."""
    if not train or not val:
        raise ValueError("fit_detector needs training photos and val photos")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "config.json"  # the same recipe whatever its resume flag was
    same = saved.is_file() and {**json.loads(saved.read_text()), "resume": config.resume} == config.to_dict()
    resume = config.resume and (out / "last.pth").is_file() and same
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))

    renderer = PlateRenderer(config.synth)
    dataset = PlateScenes(train, config.crops_per_epoch, config.crop_size, config.model.input_size, renderer,
                          config.paste_prob, config.seed)
    # channels-last: PyTorch's CPU convolution kernels run this layout much faster than the default one
    model = PlateDetector(config.model).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    total_steps = max(1, len(dataset) // config.batch_size * config.epochs)
    history: list[dict] = []
    best: dict = {"val_ap": -1.0, "val_corner_error_px": math.inf}
    start, elapsed, step = 0, 0.0, 0
    if resume:
        state = read_detector_training_state(out / "last.pth")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, best, start, elapsed = state["history"], state["best"], state["epoch"] + 1, state["elapsed"]
        step = state["step"]
        torch.set_rng_state(state["rng"])
    started = time.perf_counter() - elapsed

    def progress(step: int) -> float:
        spent = (time.perf_counter() - started) / 60 / config.minutes if config.minutes else 0.0
        return max(step / total_steps, spent)

    bar = tqdm(range(start, config.epochs), desc="detector epochs", initial=start, total=config.epochs)
    for epoch in bar:
        if progress(step) >= 1.0:
            break
        dataset.set_epoch(epoch)
        losses, step = _train_epoch(model, dataset, optimizer, progress, step, config, epoch)
        scores = {k: float(v) for k, v in evaluate_detector(model, val).items()}  # plain floats: last.pth loads
        row = {"epoch": epoch, **losses, **{f"val_{k}": v for k, v in scores.items()},
               "lr": optimizer.param_groups[0]["lr"], "progress": min(progress(step), 1.0),
               "elapsed_s": time.perf_counter() - started}
        history.append(row)
        err = scores["corner_error_px"] if not math.isnan(scores["corner_error_px"]) else math.inf
        if (scores["ap"], -err) > (best["val_ap"], -best["val_corner_error_px"]):
            best = {"epoch": epoch, "val_ap": scores["ap"], "val_ap50": scores["ap50"], "val_ap75": scores["ap75"],
                    "val_corner_error_px": err}
            save_detector(model, out / "best.pth", epoch=epoch, val=scores, seed=config.seed)
        save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                     "history": history, "best": best, "epoch": epoch,
                     "elapsed": time.perf_counter() - started, "rng": torch.get_rng_state()}, out / "last.pth")
        (out / "history.json").write_text(json.dumps(history, indent=1))
        bar.set_postfix(loss=f"{losses['train_loss']:.3f}", ap50=f"{scores['ap50']:.3f}", ap75=f"{scores['ap75']:.3f}")
    return DetectFitResult(out / "best.pth", history, best, time.perf_counter() - started, count_parameters(model))


def one_cycle(progress: float, max_lr: float, warmup: float = 0.1) -> float:
    """The learning rate at `progress` (0..1): cosine up from max_lr/25 over `warmup`, then cosine down
    to max_lr/250,000 (torch's OneCycleLR shape, as a function of progress rather than of steps)."""
    start, end = max_lr / 25, max_lr / 25 / 1e4
    p = min(max(progress, 0.0), 1.0)
    if p < warmup:
        return start + (max_lr - start) * (1 - math.cos(math.pi * p / warmup)) / 2
    return end + (max_lr - end) * (1 + math.cos(math.pi * (p - warmup) / (1 - warmup))) / 2


def _train_epoch(model, dataset, optimizer, progress, step: int, config: DetectConfig, epoch: int) -> tuple[dict, int]:
    model.train()
    generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True, generator=generator,
                        num_workers=config.num_workers, prefetch_factor=4 if config.num_workers else None)
    totals = np.zeros(3)
    count = 0
    # nested under the run's bar: only on a terminal (in a log, each redraw would leave "\x1b[A")
    for x, heat, offsets, mask in tqdm(loader, desc=f"epoch {epoch}", leave=False, mininterval=15.0,
                                       disable=not sys.stderr.isatty()):
        p = progress(step)
        if p >= 1.0:
            break
        for group in optimizer.param_groups:
            group["lr"] = one_cycle(p, config.lr)
        heat_logits, pred_offsets = model(x.contiguous(memory_format=torch.channels_last))
        l_heat = focal_loss(heat_logits, heat)
        l_off = offset_loss(pred_offsets, offsets, mask)
        loss = l_heat + config.offset_weight * l_off
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        step += 1
        totals += [loss.item(), l_heat.item(), l_off.item()]
        count += 1
    totals /= max(count, 1)
    return {"train_loss": float(totals[0]), "heat_loss": float(totals[1]), "offset_loss": float(totals[2]),
            "steps": count}, step


THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6)  # detector scores the notebook sweeps on val


def choose_threshold(sweep: list[dict]) -> float:
    """The detector score threshold to store with a detector, from rows of a sweep on val photos (each with
    "threshold", "read_rate", "found_rate" and "extra_per_photo", as `detector.measures.score_photos` gives
    them): the most plates read less the extra readings a photo; ties go to the threshold that finds more plates
    (before the confidence floor: a plate found is one a user may still get from a photo the reader reads
    better), then to the higher one."""
    if not sweep:
        raise ValueError("choose_threshold needs at least one row")
    return max(sweep, key=lambda r: (r["read_rate"] - r["extra_per_photo"], r["found_rate"], r["threshold"]))[
        "threshold"]
