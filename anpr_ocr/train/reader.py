"""Training: synthetic pretraining, then fine-tuning on real crops, selected on real val.

`fit(config, train, val)` runs both stages under one one-cycle schedule (either stage may be
empty, which gives the "real only" and "synthetic only" recipes), validates every epoch, keeps
the best checkpoint by val exact match (ties by CER) as best.pth and the best of the synthetic
stage alone as best_pretrain.pth, writes a history and can resume: last.pth, written after every
epoch, holds the optimiser, schedule and random state, so a resumed run trains what an
uninterrupted one would.

TrainConfig's defaults are the committed recipe, the one ocr_train.ipynb trains the committed model
with (its parameters cell sets the same values). The renderer's typeface and plate strings come from
$ANPR_FONT / $ANPR_TEXTS, else ../shared (relative to the working directory), as in the notebook.

Under torchrun (`torchrun --nproc_per_node N -m anpr_ocr train ...`) fit trains data-parallel with
DistributedDataParallel: gloo on CPU, NCCL on GPUs (one per local rank). Every epoch's data plan
is the single-process one; a DistributedSampler, shuffling with the same per-epoch seed, deals
each rank its own share of the epoch's indices, so each rank renders only its share of the
synthetic plates (an item's randomness comes from its index) and reads its share of the real
crops. The global batch stays `batch_size` (`batch_size // N` per rank; BatchNorm normalises each
rank's part of it and keeps its own running statistics, as under plain DDP: rank 0's are saved).
Rank 0 alone validates, broadcasts the scores (so every rank agrees on the best epoch), writes
checkpoints, history and config, and shows progress bars. A single process never touches
torch.distributed.

With `real_region_swap` > 0, some real crops take another crop's region code in fine-tuning
(`anpr_ocr.train.recombine`); where each crop is cut is placed once, when fine-tuning starts, by the model
as pretraining left it (it has seen rendered plates only), and kept in last.pth for a resume.

Cross-validation (`anpr_ocr.research.crossval`) splits a run in two: `stop_epoch` ends it after the
pretraining epochs, and `start_from` starts another run from that end state (weights, optimiser,
schedule position, random state) with its own train and val sets; on the same train set the two
halves train bit for bit what one uninterrupted run does.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import ConcatDataset, DataLoader, Dataset, DistributedSampler
from tqdm import tqdm

from ..core import metrics
from ..core.alphabet import ALPHABET, BLANK
from ..core.data import Sample
from ..reader.checkpoint import checkpoint_dict, read_training_state, save_atomic
from ..reader.decode import greedy_decode
from ..reader.model import CRNN, CRNNConfig, count_parameters
from .augment import train_augmentation
from .dataset import RealPlates, SyntheticPlates, collate
from .recombine import cut_columns
from .synth import PlateRenderer, SynthConfig

FONT_ENV, DEFAULT_FONT = "ANPR_FONT", "../shared/fonts/RoadNumbers2.0.ttf"  # GOST plate typeface (not shipped)
TEXTS_ENV, DEFAULT_TEXTS = "ANPR_TEXTS", "../shared/data/plate_texts.txt"  # real plate strings (not shipped)


WEATHER_FRACTION = 0.15  # share of the reader's renders in winter dress or worn (docs/experiments.md, "winter15")


def recipe_synth(weather_fraction: float = WEATHER_FRACTION) -> SynthConfig:
    """The recipe's renderer, its inputs as the notebook finds them: $ANPR_FONT and $ANPR_TEXTS, else the
    ../shared defaults; one that is not a file becomes None (DejaVu Sans; texts drawn at random).
    `weather_fraction` of the plates get winter or wear (`train.weather`): the reader's recipe by default."""
    font = os.environ.get(FONT_ENV, DEFAULT_FONT)
    texts = os.environ.get(TEXTS_ENV, DEFAULT_TEXTS)
    return SynthConfig(font_path=font if Path(font).is_file() else None,
                       texts_path=texts if Path(texts).is_file() else None, weather_fraction=weather_fraction)


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved beside its outputs. The defaults are the committed recipe."""

    out_dir: str = "runs/default"
    synth: SynthConfig = field(default_factory=recipe_synth)
    model: CRNNConfig = field(default_factory=CRNNConfig)
    pretrain_epochs: int = 8  # epochs of synthetic plates only
    synth_per_epoch: int = 25_000  # plates rendered per pretraining epoch
    finetune_epochs: int = 20  # epochs over the real train split
    synth_mix: float = 1.0  # rendered plates per real plate in each fine-tuning epoch
    # a quarter of the real crops cut as the box around the crop tilted by up to 10 degrees (docs/experiments.md)
    real_box_tilt: float = 10.0  # degrees; 0 turns it off
    real_box_tilt_fraction: float = 0.25
    real_region_swap: float = 0.0  # share of real crops given another crop's region code (anpr_ocr.train.recombine)
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-2
    grad_clip: float = 5.0
    seed: int = 1  # seed 1 beat seed 0 on val (same exact match, lower CER): docs/experiments.md
    num_workers: int = 1
    threads: int = 2  # torch threads; under torchrun shared among the processes on one machine
    device: str = "auto"  # "auto" takes a GPU when there is one
    resume: bool = False  # go on from out_dir/last.pth if it exists

    def to_dict(self) -> dict:
        """The config as plain JSON-ready values, the model's architecture included."""
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d


# Fields that act on the real crops only, so only in fine-tuning: recipes that differ in these alone share one
# pretraining (anpr_ocr.research.crossval runs it once for all of them).
FINETUNE_ONLY = ("real_box_tilt", "real_box_tilt_fraction", "real_region_swap")


def pretraining_part(config: TrainConfig) -> TrainConfig:
    """`config` with the fine-tuning-only fields at their defaults: what its pretraining depends on."""
    return replace(config, **{f.name: f.default for f in fields(TrainConfig) if f.name in FINETUNE_ONLY})


@dataclass
class FitResult:
    best_path: Path
    history: list[dict]
    best: dict
    wall_seconds: float
    parameters: int


def ctc_loss(logits: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean CTC loss per target character; (B, T, C) logits, blank at index 0."""
    log_probs = F.log_softmax(logits.float(), dim=-1).permute(1, 0, 2)
    input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
    return F.ctc_loss(log_probs, targets, input_lengths, lengths, blank=BLANK, zero_infinity=True)


@dataclass(frozen=True)
class _Ranks:
    """This process's place in a torchrun launch; a process on its own is rank 0 of 1."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @classmethod
    def from_env(cls) -> _Ranks:
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return cls()
        return cls(*(int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")))

    @property
    def main(self) -> bool:
        return self.rank == 0


def is_main_process() -> bool:
    """False in every torchrun process but rank 0: those print and write nothing."""
    return _Ranks.from_env().main


def fit(config: TrainConfig, train: list[Sample], val: list[Sample] | None, *,
        start_from: str | Path | None = None, stop_epoch: int | None = None) -> FitResult:
    """Train by `config` on `train` (real crops, may be empty) and select on `val`; data-parallel under torchrun.

    val None: nothing is validated or selected; best.pth (and best_pretrain.pth) hold the last epoch
    (of pretraining), as for a final model trained on every real crop with its epoch count fixed
    beforehand (by cross-validation, `anpr_ocr.research.crossval`).

    stop_epoch: end after this many epochs of the plan (e.g. `config.pretrain_epochs`); last.pth
    then holds the state to go on from. start_from: a last.pth to go on from (unless out_dir holds
    a run to resume), with this call's `train` and `val`; its history and best are not carried
    over. The one-cycle schedule is built for this call's plan: when `train` differs in size from
    the run that wrote `start_from`, so does the total step count, and the schedule is rebuilt for
    the new total and fast-forwarded to the saved step, which approximates (it does not equal) a run
    that had this train set from the start: the learning rate of the steps already taken followed
    the old total's curve.
    """
    ranks = _Ranks.from_env()
    _check_inputs(config, train, val, ranks)
    torch.manual_seed(config.seed)
    torch.set_num_threads(max(1, config.threads // ranks.local_world))
    device = torch.device("cuda" if config.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if config.device == "auto" else config.device))
    joined = ranks.world > 1 and not dist.is_initialized()
    if ranks.world > 1:
        device = _join(device, ranks)
    out = Path(config.out_dir)
    resume = _open_run_dir(out, config, ranks)

    epochs = epoch_plan(config, train, PlateRenderer(config.synth))
    model = CRNN(config.model).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = sum(steps_per_epoch(len(ds), config.batch_size, ranks.world) for _, ds in epochs)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max(steps, 1),
                                                    pct_start=0.15)
    run = _RunState()
    if resume:  # this very run goes on, with its history, best and cuts
        state = read_training_state(out / "last.pth")
        run = _RunState(state["history"], state["best"], _restore(state, model, optimizer, scheduler, device),
                        state["elapsed"], state.get("cuts"))
    elif start_from is not None:  # another run's end state, with this call's data: its history is not ours
        run.start_epoch = _restore(read_training_state(start_from), model, optimizer, scheduler, device)
    # under torchrun: DDP averages the gradients over the ranks; `model` stays the plain CRNN that is saved
    trainee = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None) \
        if ranks.world > 1 else model

    val_loader = None if val is None else DataLoader(RealPlates(val, input_size=model.input_size), batch_size=128,
                                                     collate_fn=collate)
    started = time.perf_counter() - run.elapsed
    end = len(epochs) if stop_epoch is None else min(stop_epoch, len(epochs))
    bar = tqdm(range(run.start_epoch, end), desc="epochs", initial=run.start_epoch, total=end, disable=not ranks.main)
    for epoch in bar:
        stage, dataset = epochs[epoch]
        if stage == "finetune" and config.real_region_swap and run.cuts is None:
            run.cuts = cut_columns(model, train)
        for part in getattr(dataset, "datasets", [dataset]):
            part.set_epoch(epoch)
            if isinstance(part, RealPlates) and config.real_region_swap:
                part.recombine(run.cuts, config.real_region_swap)
        train_loss = train_epoch(trainee, dataset, optimizer, scheduler, config, device, epoch)
        if ranks.world > 1:
            train_loss = _mean_over_ranks(train_loss, device)
        row = None
        if ranks.main:
            row = {"epoch": epoch, "stage": stage, "train_loss": train_loss,
                   **({} if val_loader is None else _val_scores(model, val_loader, val, device)),
                   "lr": scheduler.get_last_lr()[0], "seconds": time.perf_counter() - started}
        if ranks.world > 1:
            row = _from_rank_0(row)  # every rank keeps the same history and agrees on the best epoch
        run.history.append(row)
        improved, best_pretrain = _selected(row, run, validated=val_loader is not None)
        if improved:
            run.best = dict(row)
        if ranks.main:  # rank 0 alone writes
            _write_epoch(out, model, optimizer, scheduler, run, row, config.seed, device, improved, best_pretrain)
        bar.set_postfix(stage=stage, loss=f"{train_loss:.3f}",
                        **({} if val_loader is None else {"val_em": f"{row['val_exact_match']:.3f}",
                                                          "val_cer": f"{row['val_cer']:.4f}"}))
    wall = time.perf_counter() - started
    if joined:
        dist.destroy_process_group()
    return FitResult(out / "best.pth", run.history, run.best, wall, count_parameters(model))


@dataclass
class _RunState:
    """What a run carries from epoch to epoch, and over a resume (last.pth holds it)."""

    history: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"val_exact_match": -1.0, "val_cer": float("inf")})
    start_epoch: int = 0
    elapsed: float = 0.0
    cuts: list | None = None  # where real crops are cut for region swaps: placed once, by the model pretraining left


def _check_inputs(config: TrainConfig, train: list[Sample], val: list[Sample] | None, ranks: _Ranks) -> None:
    if val is not None and not val:
        raise ValueError("fit needs a non-empty validation set for model selection, or val=None for none")
    if config.finetune_epochs and not train:
        raise ValueError("finetune_epochs > 0 needs real training samples")
    if config.batch_size % ranks.world:
        raise ValueError(f"batch_size {config.batch_size} does not split evenly over {ranks.world} processes")


def _open_run_dir(out: Path, config: TrainConfig, ranks: _Ranks) -> bool:
    """Make the run folder and write the config there; whether it holds this very run to resume."""
    if ranks.main:
        out.mkdir(parents=True, exist_ok=True)
    resume = config.resume and (out / "last.pth").is_file() and _same_run(out / "config.json", config)
    if config.resume and (out / "last.pth").is_file() and not resume and ranks.main:
        print(f"{out} holds a run with another config: training afresh")
    if ranks.world > 1:
        dist.barrier()  # every rank has read the old config before rank 0 rewrites it
    if ranks.main:
        (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    return resume


def _val_scores(model: CRNN, loader: DataLoader, val: list[Sample], device: torch.device) -> dict:
    """val loss, exact match and CER of greedy readings: what fit selects its best epoch by."""
    val_loss, preds = _validate(model, loader, device)
    truths = [s.text for s in val]
    return {"val_loss": val_loss, "val_exact_match": metrics.exact_match(truths, preds),
            "val_cer": metrics.cer(truths, preds)}


def _selected(row: dict, run: _RunState, validated: bool) -> tuple[bool, bool]:
    """(best so far, best of pretraining so far) for the epoch `row`, the last of `run.history`. Without
    validation the latest epoch is kept."""
    if not validated:
        return True, row["stage"] == "pretrain"
    score = (row["val_exact_match"], -row["val_cer"])
    improved = score > (run.best["val_exact_match"], -run.best["val_cer"])
    earlier = [(h["val_exact_match"], -h["val_cer"]) for h in run.history[:-1] if h["stage"] == "pretrain"]
    return improved, row["stage"] == "pretrain" and (not earlier or score > max(earlier))


def _write_epoch(out: Path, model: CRNN, optimizer, scheduler, run: _RunState, row: dict, seed: int,
                 device: torch.device, improved: bool, best_pretrain: bool) -> None:
    """best.pth and best_pretrain.pth when the epoch is their best, the history, and last.pth to go on from."""
    if improved:
        _save_best(model, out / "best.pth", row, seed)
    if best_pretrain:
        _save_best(model, out / "best_pretrain.pth", row, seed)  # the "synthetic only" model
    (out / "history.json").write_text(json.dumps(run.history, indent=1))
    save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "history": run.history, "best": run.best, "epoch": row["epoch"],
                 "elapsed": row["seconds"], "rng": _rng_state(device), "cuts": run.cuts}, out / "last.pth")


def _join(device: torch.device, ranks: _Ranks) -> torch.device:
    """Join torchrun's process group: NCCL with the local rank's GPU, or gloo on the CPU."""
    if device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def _mean_over_ranks(value: float, device: torch.device) -> float:
    """The mean of a per-rank mean over every rank (each rank trains on as many items)."""
    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()


def _from_rank_0(obj):
    """Rank 0's `obj` on every rank."""
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def steps_per_epoch(n: int, batch_size: int, world: int) -> int:
    """Optimiser steps for an epoch of `n` items on each of `world` ranks (a last, short batch counted)."""
    per_rank = -(-n // world)  # DistributedSampler pads the ranks' shares to equal length
    return -(-per_rank // (batch_size // world))


def _same_run(saved: Path, config: TrainConfig) -> bool:
    """Whether the config saved in a run folder describes the same run (resume flag aside)."""
    if not saved.is_file():
        return False
    before, now = json.loads(saved.read_text()), config.to_dict()
    before.pop("resume", None)
    now.pop("resume", None)
    return before == json.loads(json.dumps(now))


def _restore(state: dict, model, optimizer, scheduler, device) -> int:
    """Put a training state's weights, optimiser, schedule position and random state (dropout's draws go on
    where they stopped) into a fresh run; return the next epoch. A schedule built for another total step
    count (another train set) is fast-forwarded to the saved step instead."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if state["scheduler"]["total_steps"] == scheduler.total_steps:
        scheduler.load_state_dict(state["scheduler"])
    else:
        fast_forward(scheduler, state["scheduler"]["last_epoch"])
    if "rng" in state:
        _set_rng_state(state["rng"], device)
    return state["epoch"] + 1


def fast_forward(scheduler: torch.optim.lr_scheduler.LRScheduler, step: int) -> None:
    """Put a freshly built scheduler at `step`: the learning rate (and momentum) it sets there."""
    scheduler.last_epoch = step - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "step() before optimizer.step()": on purpose here
        scheduler.step()


def _rng_state(device: torch.device) -> dict:
    """The generators dropout draws from: the CPU's, and the GPU's when training runs there."""
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else []}


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


def _save_best(model: CRNN, path: Path, row: dict, seed: int) -> None:
    """A checkpoint of the plain model with its weights on the CPU (moving the model itself would disturb DDP)."""
    scores = {k: row[k] for k in ("val_exact_match", "val_cer") if k in row}
    ckpt = checkpoint_dict(model, epoch=row["epoch"], stage=row["stage"], seed=seed, **scores)
    ckpt["state_dict"] = {k: v.to("cpu") for k, v in ckpt["state_dict"].items()}
    save_atomic(ckpt, path)


def epoch_plan(config: TrainConfig, train: list[Sample], renderer: PlateRenderer) -> list[tuple[str, object]]:
    """[(stage, dataset)] for every epoch: synthetic pretraining, then real (+ synthetic) fine-tuning."""
    aug = train_augmentation()
    # real crops are cut along the plate's corners; rendered plates draw their own box crops
    real_aug = train_augmentation(box_tilt=config.real_box_tilt, box_tilt_fraction=config.real_box_tilt_fraction)
    size = config.model.height, config.model.width
    plan: list[tuple[str, object]] = []
    for _ in range(config.pretrain_epochs):
        plan.append(("pretrain", SyntheticPlates(renderer, config.synth_per_epoch, aug, config.seed, size)))
    for _ in range(config.finetune_epochs):
        parts = [RealPlates(train, real_aug, config.seed, size)]
        n_synth = int(round(len(train) * config.synth_mix))
        if n_synth:
            parts.append(SyntheticPlates(renderer, n_synth, aug, config.seed + 1, size))
        plan.append(("finetune", ConcatDataset(parts)))
    return plan


def train_epoch(model: torch.nn.Module, dataset: Dataset, optimizer: torch.optim.Optimizer,
                scheduler: torch.optim.lr_scheduler.LRScheduler, config: TrainConfig, device: torch.device,
                epoch: int) -> float:
    """One epoch over `dataset`; a DDP-wrapped `model` trains on this rank's share of it."""
    model.train()
    workers = dict(collate_fn=collate, num_workers=config.num_workers, persistent_workers=False,
                   prefetch_factor=4 if config.num_workers else None)
    if isinstance(model, DistributedDataParallel):
        # one shuffle of the epoch (the same on every rank) dealt out: rank r takes every world-th item of it
        sampler = DistributedSampler(dataset, seed=config.seed * 1000, drop_last=False)
        sampler.set_epoch(epoch)
        batch_size = config.batch_size // dist.get_world_size()
        loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=len(sampler) > batch_size,
                            **workers)
    else:
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True,
                            drop_last=len(dataset) > config.batch_size, generator=generator, **workers)
    total, count = 0.0, 0
    # the epoch's bar nests under the run's: only on a terminal (in a log, each redraw would leave "\x1b[A")
    quiet = (dist.is_initialized() and dist.get_rank() != 0) or not sys.stderr.isatty()
    for images, targets, lengths, _ in tqdm(loader, desc=f"epoch {epoch}", leave=False, mininterval=15.0,
                                            disable=quiet):
        logits = model(images.to(device, non_blocking=True))
        loss = ctc_loss(logits, targets, lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if scheduler.last_epoch < scheduler.total_steps - 1:
            scheduler.step()
        total += loss.item() * images.shape[0]
        count += images.shape[0]
    return total / max(count, 1)


@torch.inference_mode()
def _validate(model, loader, device) -> tuple[float, list[str]]:
    model.eval()
    total, count, preds = 0.0, 0, []
    for images, targets, lengths, _ in loader:
        logits = model(images.to(device))
        total += ctc_loss(logits, targets, lengths).item() * images.shape[0]
        count += images.shape[0]
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        preds += [d.text for d in greedy_decode(probs, ALPHABET)]
    return total / count, preds
