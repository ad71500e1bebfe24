"""K-fold cross-validation over the real crops: the protocol that tells training recipes apart.

A val split of a hundred crops cannot rank recipes that differ by a plate or two. Here every
real crop of train + val is read by a model that never trained on it:

- `assign_folds` deals the crops into k folds, fixed by a seed, stratified by region length (2- or
  3-digit region code, "other" for strings that fit no format), independent of the crops' order.
- `run_cv`, for each seed: pretrains once on rendered plates (the recipe's pretraining stage, which
  sees no real crop; validated on all of them, the "synthetic only" curve), then for each fold
  fine-tunes from that end state (weights, optimiser, one-cycle schedule position, random state)
  on the other folds and reads the held-out fold. Nothing is selected on the held-out fold: the
  fold's model is the one after the recipe's last fine-tuning epoch, and the per-epoch held-out
  curve is only recorded, so that the folds can set the epoch count (`epochs_from_folds`). The
  held-out crops are read greedily and by predict's default decoder at a temperature fitted on all
  out-of-fold logits, each crop once from its stored logits (predict's second look at unsure crops needs
  the model again: `scripts/crop_views_oof.py` and `scripts/int8_oof.py` read the fold models with it),
  and scored by the proxies of `anpr_ocr.research.proxies` (tilted, trimmed, degraded).
  The pretraining's schedule is built for fold 0's training-set size; a fold whose size gives
  another step count rebuilds it (see `train.fit`, `start_from`).
- Finished work is reused: a pretraining or fold found in out_dir with the same fingerprint
  (train config, seed and the crops it trained and validated on) is not trained again, and a
  half-finished one resumes from its last.pth. Recipes that differ only in fields that act in
  fine-tuning alone (`train.FINETUNE_ONLY`) share one pretraining per seed: the first recipe's
  out_dir/<recipe>/seed<s>/pretrain, found by its fingerprint.
- A record per (recipe, seed) is a small JSON file: per-fold scores, curves and wall times, and per
  crop its fold, truth, readings and calibrated confidence. The frame logits stay in out_dir (npz).

The summaries are pure functions of records: `summarize` (the recipe table), `paired_difference`
(two recipes fold by fold), `epochs_from_folds`, and `oof_readings` with `coverage_at`
(how flagging unsure readings trades coverage for accuracy).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ..core import metrics
from ..core.data import Sample
from ..core.formats import format_key
from ..reader.checkpoint import load_training_model
from ..reader.infer import frame_logits
from ..reader.predict import DEFAULT_DECODER
from ..train import reader as training
from ..train.reader import TrainConfig
from . import calibrate
from .machine import created_now, environment
from .proxies import count_keys, proxy_scores

FINGERPRINT = "cv_fingerprint.json"


@dataclass
class CVConfig:
    """One recipe's cross-validation: its training config, the folds and the seeds."""

    recipe: str = "committed"
    train: TrainConfig = field(default_factory=TrainConfig)  # out_dir and seed are set per run
    k: int = 5
    fold_seed: int = 0  # fixes the folds; keep it when comparing recipes
    seeds: tuple[int, ...] = (1,)
    proxies: bool = True  # score each held-out fold tilted, trimmed and degraded too


def region_stratum(text: str) -> str:
    """"2" or "3" (digits in the region code of the format the plate fits), or "other"."""
    return format_key(text).rpartition("/")[2]


def assign_folds(samples: list[Sample], k: int = 5, seed: int = 0) -> list[int]:
    """The fold (0..k-1) of each sample, in the samples' order.

    The samples are sorted by source (then text), shuffled by `seed`, grouped by `region_stratum`
    and dealt round-robin, stratum after stratum: folds differ in size by at most one, and so do
    their counts of each stratum. The same samples in any order get the same folds.
    """
    if k < 2:
        raise ValueError(f"k-fold cross-validation needs k >= 2, got {k}")
    if len(samples) < k:
        raise ValueError(f"{len(samples)} samples cannot fill {k} folds")
    sources = [s.source for s in samples]
    if len(set(sources)) != len(sources):
        twice = next(s for s in sources if sources.count(s) > 1)
        raise ValueError(f"every sample needs its own source to be assigned a fold; {twice!r} appears twice")
    order = sorted(range(len(samples)), key=lambda i: (samples[i].source, samples[i].text))
    order = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
    strata: dict[str, list[int]] = {}
    for i in order:
        strata.setdefault(region_stratum(samples[i].text), []).append(i)
    folds = [0] * len(samples)
    dealt = [i for name in sorted(strata) for i in strata[name]]
    for position, i in enumerate(dealt):
        folds[i] = position % k
    return folds


def run_cv(config: CVConfig, samples: list[Sample], out_dir: str | Path,
           record_path: str | Path | None = None) -> list[dict]:
    """Cross-validate `config.train` on `samples` for each seed; one record per seed.

    Runs go to out_dir/<recipe>/seed<s>/{pretrain,fold<i>}; records, when `record_path` (a folder)
    is given, to record_path/<recipe>_seed<s>.json.
    """
    if config.train.finetune_epochs < 1:
        raise ValueError("cross-validation fine-tunes on the other folds: finetune_epochs must be at least 1")
    folds = assign_folds(samples, config.k, config.fold_seed)
    records = []
    for seed in config.seeds:
        print(f"{config.recipe}, seed {seed}: {len(samples)} crops in {config.k} folds", flush=True)
        record = _run_seed(config, samples, folds, seed, Path(out_dir) / config.recipe / f"seed{seed}")
        if record_path is not None:
            path = Path(record_path) / f"{config.recipe}_seed{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        records.append(record)
    return records


def _run_seed(config: CVConfig, samples: list[Sample], folds: list[int], seed: int, out: Path) -> dict:
    train_config = replace(config.train, seed=seed)
    names = relative_sources(samples)
    held = [[i for i, f in enumerate(folds) if f == fold] for fold in range(config.k)]
    rest = [[i for i, f in enumerate(folds) if f != fold] for fold in range(config.k)]
    pick = lambda idx: [samples[i] for i in idx]  # noqa: E731

    everything = samples_digest(samples)
    pretrain_config = training.pretraining_part(train_config)
    pretrain_fp = {"train_config": portable(pretrain_config), "schedule_train": _digest(names, samples, rest[0]),
                   "val": everything}
    pretrain, pretrain_dir = None, _pretraining_dir(out, pretrain_fp)
    if train_config.pretrain_epochs:
        if pretrain_dir != out / "pretrain":
            print(f"  pretraining shared with {pretrain_dir} (the recipes differ in fine-tuning alone)", flush=True)
        result = training.fit(_run_config(pretrain_config, pretrain_dir, pretrain_fp), pick(rest[0]), samples,
                              stop_epoch=train_config.pretrain_epochs)
        pretrain = {"wall_seconds": result.history[-1]["seconds"],  # a run found finished took what it took
                    "curve": [_curve_row(h, 0) for h in result.history]}
        print(f"  pretraining: {pretrain['wall_seconds'] / 60:.1f} min", flush=True)

    fold_rows, logits = [], []
    for fold in range(config.k):
        fingerprint = {"pretrain": pretrain_fp, "train": _digest(names, samples, rest[fold]),
                       "held_out": _digest(names, samples, held[fold])}
        row, fold_logits = _run_fold(config, train_config, pick(rest[fold]), pick(held[fold]), fold,
                                     out / f"fold{fold}", fingerprint, pretrain_dir if pretrain else None)
        fold_rows.append(row)
        logits.append(fold_logits)
        print(f"  fold {fold}: held-out exact match {row['curve'][-1]['exact_match']:.4f}, "
              f"{row['wall_seconds'] / 60:.1f} min", flush=True)

    order = [i for idx in held for i in idx]
    truths = [samples[i].text for i in order]
    all_logits = np.concatenate(logits)
    temperature = calibrate.fit_temperature(all_logits, truths, decoder=DEFAULT_DECODER)
    greedy, _ = calibrate.readings_at(all_logits, temperature, "greedy")
    read, confidences = calibrate.readings_at(all_logits, temperature, DEFAULT_DECODER)
    crops = [{"source": names[i], "fold": folds[i], "truth": samples[i].text, "greedy": g, "read": r,
              "confidence": float(c)} for i, g, r, c in zip(order, greedy, read, confidences)]
    for row in fold_rows:
        mine = [c for c in crops if c["fold"] == row["fold"]]
        row.update(crop_scores(mine))
    return {"recipe": config.recipe, "seed": seed, "k": config.k, "fold_seed": config.fold_seed, "n": len(samples),
            "samples": everything, "decoder": DEFAULT_DECODER,
            "temperature": temperature, "train_config": portable(train_config), "pretrain": pretrain,
            "folds": fold_rows, "crops": crops, "environment": environment(),
            "created": created_now()}


def _pretraining_dir(out: Path, fingerprint: dict) -> Path:
    """Where this seed's pretraining runs: another recipe's of the same seed (out_dir/<recipe>/seed<s>/pretrain)
    when its fingerprint is this one, as for recipes that differ in fine-tuning alone; else out/pretrain."""
    wanted = json.loads(json.dumps(fingerprint))
    for found in sorted(out.parent.parent.glob(f"*/{out.name}/pretrain")):
        marker = found / FINGERPRINT
        if found != out / "pretrain" and marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return found
    return out / "pretrain"


def _run_fold(config: CVConfig, train_config: TrainConfig, train: list[Sample], held_out: list[Sample], fold: int,
              run_dir: Path, fingerprint: dict, pretrain_dir: Path | None) -> tuple[dict, np.ndarray]:
    """Fine-tune on `train`, read `held_out`; reuse a finished fold with the same fingerprint (a fold
    found trained but not read, or read without the proxies now asked for, is read again, not retrained)."""
    done, oof = run_dir / "fold.json", run_dir / "oof.npz"
    if done.is_file() and oof.is_file():
        row = json.loads(done.read_text(encoding="utf-8"))
        same = row.pop("fingerprint", None) == json.loads(json.dumps(fingerprint))
        if same and (row["proxies"] or not config.proxies):
            with np.load(oof) as saved:
                return row, saved["logits"]
    start = None if pretrain_dir is None else pretrain_dir / "last.pth"
    result = training.fit(_run_config(train_config, run_dir, fingerprint), train, held_out, start_from=start)
    started = time.perf_counter()
    model = load_training_model(run_dir / "last.pth", train_config.model)  # the last epoch's: nothing chosen
    logits = frame_logits(model, [s.image for s in held_out])
    np.savez_compressed(oof, logits=logits.astype(np.float32), truths=np.array([s.text for s in held_out]))
    row = {"fold": fold, "n": len(held_out), "wall_seconds": result.history[-1]["seconds"],
           "curve": [_curve_row(h, train_config.pretrain_epochs) for h in result.history],
           "proxies": proxy_scores(model, held_out) if config.proxies else {}}
    row["scoring_seconds"] = time.perf_counter() - started
    done.write_text(json.dumps({**row, "fingerprint": fingerprint}, indent=1), encoding="utf-8")
    return row, logits


def _run_config(config: TrainConfig, run_dir: Path, fingerprint: dict) -> TrainConfig:
    """The config of one run in `run_dir`: resumed if the folder holds this very run, else started afresh."""
    run_dir.mkdir(parents=True, exist_ok=True)
    marker = run_dir / FINGERPRINT
    same = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == json.loads(json.dumps(fingerprint))
    if not same:
        for stale in ("last.pth", "fold.json", "oof.npz"):
            (run_dir / stale).unlink(missing_ok=True)
        marker.write_text(json.dumps(fingerprint, indent=1), encoding="utf-8")
    return replace(config, out_dir=str(run_dir), resume=True)


def _curve_row(history_row: dict, pretrain_epochs: int) -> dict:
    """A history row as a point of the held-out curve; epochs count from 1 within the stage."""
    return {"epoch": history_row["epoch"] - pretrain_epochs + 1, "exact_match": history_row["val_exact_match"],
            "cer": history_row["val_cer"]}


def crop_scores(crops: list[dict]) -> dict:
    """Exact match and CER of a record's crops, greedy and by `predict`'s decoder, each crop read once ("_read")."""
    truths = [c["truth"] for c in crops]
    greedy, read = [c["greedy"] for c in crops], [c["read"] for c in crops]
    return {"exact_match": metrics.exact_match(truths, greedy), "cer": metrics.cer(truths, greedy),
            "exact_match_read": metrics.exact_match(truths, read), "cer_read": metrics.cer(truths, read)}


def portable(config: TrainConfig) -> dict:
    """The config as JSON, without what differs between runs of one recipe (out_dir, resume)."""
    d = json.loads(json.dumps(config.to_dict()))
    d.pop("out_dir", None)
    d.pop("resume", None)
    return d


def relative_sources(samples: list[Sample]) -> list[str]:
    """Sources relative to the folder they share, so records from different checkouts compare."""
    folders = [os.path.dirname(os.path.abspath(s.source)) for s in samples]
    try:
        root = os.path.commonpath(folders)
    except ValueError:  # different drives: keep them as they are
        return [s.source for s in samples]
    return [os.path.relpath(os.path.abspath(s.source), root) for s in samples]


def _digest(names: list[str], samples: list[Sample], idx) -> str:
    """SHA-256 of (source, label) for the samples at `idx`, in that order."""
    return hashlib.sha256("\n".join(f"{names[i]}\t{samples[i].text}" for i in idx).encode()).hexdigest()


def samples_digest(samples: list[Sample]) -> str:
    """The digest a record keeps of the crops it was run on (their paths relative to the folder they
    share, and labels, in order): equal digests, same crops."""
    return _digest(relative_sources(samples), samples, range(len(samples)))


def records_for(folder: str | Path, samples: list[Sample]) -> list[dict]:
    """The records in `folder` that were run on exactly `samples` (train + val, in that order); [] when
    the folder does not exist or holds none for these crops (another data set, say)."""
    if not Path(folder).is_dir():
        return []
    digest = samples_digest(samples)
    return [r for r in load_records(folder) if r["samples"] == digest]


def recipe_differences(record: dict, config: TrainConfig) -> list[str]:
    """The TrainConfig fields (dotted) in which `config` differs from the recipe a record ran, leaving
    out what does not make a recipe: the seed, the renderer's file paths, and how and where a run is
    executed (threads, workers, device; out_dir and resume are not in a record)."""
    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in d.items():
            out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
        return out

    ignored = {"seed", "synth.font_path", "synth.texts_path", "threads", "num_workers", "device"}
    # a record written before a field existed ran that field's default
    mine, theirs = flat(portable(config)), flat({**portable(TrainConfig()), **record["train_config"]})
    return sorted(k for k in mine.keys() | theirs.keys() if k not in ignored and mine.get(k) != theirs.get(k))


def load_records(paths: str | Path | list[str | Path]) -> list[dict]:
    """Records from JSON files, or from every *.json in a folder (sorted by name)."""
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        paths = sorted(Path(paths).glob("*.json"))
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    records = []
    for path in paths:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not {"recipe", "seed", "folds", "crops"} <= set(record):
            raise ValueError(f"{path} is not a cross-validation record (run_cv writes them)")
        records.append(record)
    return records


# Summaries: pure functions of records.

def _sd(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None


def _by_recipe(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(record["recipe"], []).append(record)
    for recipe, group in groups.items():
        seeds = [r["seed"] for r in group]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"recipe {recipe!r} has two records of one seed: {sorted(seeds)}")
    return groups


def summarize(records: list[dict]) -> list[dict]:
    """One row per recipe, in the order the records first name them.

    exact_match, cer (greedy) and exact_match_read, cer_read (predict's decoder at the fitted
    temperature) are pooled over every out-of-fold crop of a seed, then averaged over seeds;
    *_sd_folds is the standard deviation of the fold scores within a seed, averaged over seeds;
    *_sd_seeds the standard deviation of the seeds' pooled scores (None with one fold or one seed).
    The proxies' counts are summed over the folds of a seed (averaged over seeds); degraded
    exact match and CER are pooled over the degraded copies. Minutes are per seed, averaged.
    """
    rows = []
    for recipe, group in _by_recipe(records).items():
        row: dict = {"recipe": recipe, "seeds": len(group), "folds": group[0]["k"], "n": group[0]["n"]}
        for name, key in (("exact_match", "greedy"), ("cer", "greedy"), ("exact_match_read", "read"),
                          ("cer_read", "read")):
            score = metrics.cer if name.startswith("cer") else metrics.exact_match
            pooled = [score([c["truth"] for c in r["crops"]], [c[key] for c in r["crops"]]) for r in group]
            within = [_sd([f[name] for f in r["folds"]]) for r in group]
            row[name] = statistics.fmean(pooled)
            row[f"{name}_sd_folds"] = None if None in within else statistics.fmean(within)
            row[f"{name}_sd_seeds"] = _sd(pooled)
        if all(f["proxies"] for r in group for f in r["folds"]):
            row.update(_proxy_summary(group))
        pretrain = [(r["pretrain"] or {}).get("wall_seconds", 0.0) / 60 for r in group]
        folds = [sum(f["wall_seconds"] for f in r["folds"]) / 60 for r in group]
        row["pretrain_minutes"] = statistics.fmean(pretrain)
        row["finetune_minutes"] = statistics.fmean(folds)
        row["wall_minutes"] = row["pretrain_minutes"] + row["finetune_minutes"]
        rows.append(row)
    return rows


def _proxy_summary(group: list[dict]) -> dict:
    out = {key: statistics.fmean(sum(f["proxies"][key] for f in r["folds"]) for r in group) for key in count_keys()}
    exact, cer = [], []
    for r in group:
        hits = errors = chars = total = 0.0
        for f in r["folds"]:
            em, fold_cer, n = f["proxies"]["degraded"]
            fold_chars = n / f["n"] * sum(len(c["truth"]) for c in r["crops"] if c["fold"] == f["fold"])
            hits, total = hits + em * n, total + n
            errors, chars = errors + fold_cer * fold_chars, chars + fold_chars
        exact.append(hits / total)
        cer.append(errors / chars)
    out["degraded_exact_match"], out["degraded_cer"] = statistics.fmean(exact), statistics.fmean(cer)
    return out


def paired_difference(a: list[dict], b: list[dict], score: str = "exact_match") -> dict:
    """Recipe A against recipe B fold by fold: `score` of A minus B for each (seed, fold) both ran.

    Returns {"pairs": [{"seed", "fold", "a", "b", "difference"}], "n", "mean", "sd" (None for one
    pair), "a_better", "b_better", "ties"}. The folds must hold the same crops in both.
    """
    folds_a, folds_b = _folds_by_key(a, "A"), _folds_by_key(b, "B")
    common = sorted(set(folds_a) & set(folds_b))
    if not common:
        raise ValueError(f"no (seed, fold) in common: A has {sorted(folds_a)}, B has {sorted(folds_b)}")
    pairs = []
    for key in common:
        (fa, crops_a), (fb, crops_b) = folds_a[key], folds_b[key]
        if crops_a != crops_b:
            raise ValueError(f"fold {key[1]} of seed {key[0]} holds other crops in A than in B "
                             "(another k, fold_seed or data set): the folds do not pair")
        pairs.append({"seed": key[0], "fold": key[1], "a": fa[score], "b": fb[score],
                      "difference": fa[score] - fb[score]})
    differences = [p["difference"] for p in pairs]
    return {"pairs": pairs, "n": len(pairs), "mean": statistics.fmean(differences), "sd": _sd(differences),
            "a_better": sum(d > 0 for d in differences), "b_better": sum(d < 0 for d in differences),
            "ties": sum(d == 0 for d in differences)}


def _folds_by_key(records: list[dict], side: str) -> dict[tuple[int, int], tuple[dict, frozenset]]:
    recipes = {r["recipe"] for r in records}
    if len(recipes) != 1:
        raise ValueError(f"side {side} must hold the records of one recipe, got {sorted(recipes)}")
    _by_recipe(records)  # one record per seed
    return {(r["seed"], f["fold"]): (f, frozenset(c["source"] for c in r["crops"] if c["fold"] == f["fold"]))
            for r in records for f in r["folds"]}


def mean_curve(records: list[dict]) -> list[dict]:
    """The held-out curve averaged over every (seed, fold): [{"epoch", "exact_match", "cer"}] per epoch."""
    curves = [f["curve"] for r in records for f in r["folds"]]
    if not curves:
        raise ValueError("no fold curves in these records")
    lengths = {len(c) for c in curves}
    if len(lengths) != 1:
        raise ValueError(f"the folds' curves differ in length {sorted(lengths)}: records of different recipes?")
    return [{"epoch": points[0]["epoch"], "exact_match": statistics.fmean(p["exact_match"] for p in points),
             "cer": statistics.fmean(p["cer"] for p in points)} for points in zip(*curves)]


def epochs_from_folds(records: list[dict]) -> int:
    """The fine-tuning epoch count whose mean held-out exact match is highest (ties: lower mean CER,
    then fewer epochs). The curve is that of the recipe's schedule stopped early, so a run with this
    many epochs has its own, shorter schedule: a choice to confirm by cross-validating it."""
    curve = mean_curve(records)
    best = min(curve, key=lambda p: (-round(p["exact_match"], 12), round(p["cer"], 12), p["epoch"]))
    return best["epoch"]


def oof_readings(record: dict) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold confidences (calibrated, predict's decoder) and whether each reading is right."""
    crops = record["crops"]
    return (np.array([c["confidence"] for c in crops], np.float64),
            np.array([c["read"] == c["truth"] for c in crops], bool))


def coverage_at(confidences: ArrayLike, correct: ArrayLike, coverage: float = 0.95) -> dict:
    """The highest threshold that keeps at least `coverage` of the readings, and the exact match of
    those kept: {"threshold", "coverage", "flagged", "accuracy", "kept"}."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must lie in (0, 1], got {coverage}")
    n = len(np.asarray(confidences).ravel())
    for t, covered, accuracy in calibrate.coverage_curve(confidences, correct):
        if covered >= coverage - 1e-12:
            return {"threshold": t, "coverage": covered, "flagged": 1.0 - covered, "accuracy": accuracy,
                    "kept": int(round(covered * n))}
    raise AssertionError("coverage_curve ends at full coverage")  # unreachable


@dataclass
class Selection:
    """What the cross-validation records of one data set say for a training run of the kept recipe.

    rows: `summarize` of every recipe; differences: the kept recipe against each other one, fold by fold, as
    `predict` reads (`paired_difference` of "exact_match_read"); differs: the TrainConfig fields in which the run
    differs from the recipe the kept records ran. Only when they ran this very recipe (`applied`) do the records
    give the run its fine-tuning epochs (`epochs_from_folds`), temperature (mean over seeds), the out-of-fold
    confidences and rightness, the confidence floor that keeps `coverage` of the readings, and the mean curve.
    """

    kept: str
    rows: list[dict] = field(default_factory=list)
    differences: dict[str, dict] = field(default_factory=dict)
    differs: list[str] = field(default_factory=list)
    finetune_epochs: int | None = None
    temperature: float | None = None
    confidences: np.ndarray | None = None
    right: np.ndarray | None = None
    coverage: dict | None = None
    mean_curve: list[dict] | None = None

    @property
    def applied(self) -> bool:
        """Whether the records ran this very recipe, so that they give the run its epochs and calibration."""
        return self.finetune_epochs is not None

    def summary(self) -> dict:
        """What the notebook writes to figures/crossval.json (beside the data and the records' folder)."""
        return {"kept": self.kept, "rows": self.rows, "finetune_epochs": self.finetune_epochs,
                "temperature": self.temperature, "coverage": self.coverage, "mean_curve": self.mean_curve}


def select(records: list[dict], kept: str, config: TrainConfig, coverage: float = 0.95) -> Selection:
    """The `Selection` for training `config` as recipe `kept`, from cross-validation `records` of its data."""
    mine = [r for r in records if r["recipe"] == kept]
    if not mine:
        return Selection(kept, summarize(records) if records else [])
    others = dict.fromkeys(r["recipe"] for r in records if r["recipe"] != kept)
    selection = Selection(kept, summarize(records),
                          {o: paired_difference(mine, [r for r in records if r["recipe"] == o], "exact_match_read")
                           for o in others},
                          recipe_differences(mine[0], config))
    if selection.differs:
        return selection
    confidences, right = (np.concatenate(parts) for parts in zip(*(oof_readings(r) for r in mine)))
    selection.finetune_epochs = epochs_from_folds(mine)
    selection.temperature = statistics.fmean(r["temperature"] for r in mine)
    selection.confidences, selection.right = confidences, right
    selection.coverage = coverage_at(confidences, right, coverage)
    selection.mean_curve = mean_curve(mine)
    return selection
