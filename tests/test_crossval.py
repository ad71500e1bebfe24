import json
import math
import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from anpr_ocr.core.data import Sample, load_samples
from anpr_ocr.reader.model import CRNNConfig
from anpr_ocr.research import crossval
from anpr_ocr.research.crossval import (
    CVConfig,
    assign_folds,
    coverage_at,
    epochs_from_folds,
    mean_curve,
    paired_difference,
    region_stratum,
    run_cv,
    summarize,
)
from anpr_ocr.research.proxies import count_keys
from anpr_ocr.train import reader as train_module
from anpr_ocr.train.reader import TrainConfig, fast_forward, fit
from anpr_ocr.train.synth import SynthConfig

REPO = Path(__file__).resolve().parents[1]
TINY = CRNNConfig(channels=(8, 16, 16, 24, 24, 32), lstm_hidden=16)
PIXEL = np.zeros((2, 2), np.uint8)


def _config(out, font_path, texts_path, **kw):
    base = dict(out_dir=str(out), synth=SynthConfig(font_path=str(font_path), texts_path=str(texts_path)),
                model=TINY, pretrain_epochs=1, synth_per_epoch=64, finetune_epochs=2, synth_mix=0.5,
                batch_size=16, num_workers=0, threads=1, device="cpu", seed=0)
    base.update(kw)
    return TrainConfig(**base)


# Folds

def _labelled(counts: dict[str, int]) -> list[Sample]:
    """Samples of known strata: "2" private plates with 2-digit regions, "3" with 3-digit, "other" junk."""
    make = {"2": lambda i: f"A{i % 1000:03d}BC{10 + i % 90}", "3": lambda i: f"E{i % 1000:03d}KM{100 + i % 900}",
            "other": lambda i: f"X{i}"}
    out = []
    for stratum, n in counts.items():
        out += [Sample(PIXEL, make[stratum](i), f"img/{stratum}_{i:04d}.png") for i in range(n)]
    return out


def _check_folds(samples, folds, k, strata):
    assert len(folds) == len(samples) and set(folds) == set(range(k))  # each crop in exactly one fold, none empty
    sizes = Counter(folds)
    assert max(sizes.values()) - min(sizes.values()) <= 1
    for stratum in set(strata):
        per_fold = Counter(f for f, s in zip(folds, strata) if s == stratum)
        counts = [per_fold.get(f, 0) for f in range(k)]
        assert max(counts) - min(counts) <= 1, (stratum, counts)


def test_region_stratum():
    assert region_stratum("A123BC77") == "2"
    assert region_stratum("A123BC177") == "3"
    assert region_stratum("AB12377") == "2"  # taxi, 2-digit region
    assert region_stratum("A1234777") == "3"  # police, 3-digit region
    assert region_stratum("A12BC77") == "other"


@pytest.mark.parametrize("k", [2, 3, 5])
def test_folds_on_label_lists(k):
    samples = _labelled({"2": 57, "3": 31, "other": 4})
    strata = [s.source.split("/")[1].split("_")[0] for s in samples]  # the stratum each was made in
    assert [region_stratum(s.text) for s in samples] == strata
    folds = assign_folds(samples, k=k, seed=3)
    _check_folds(samples, folds, k, strata)
    assert assign_folds(samples, k=k, seed=3) == folds
    assert assign_folds(samples, k=k, seed=4) != folds
    shuffled = samples[:]
    random.Random(0).shuffle(shuffled)
    by_source = dict(zip((s.source for s in shuffled), assign_folds(shuffled, k=k, seed=3)))
    assert [by_source[s.source] for s in samples] == folds


def test_folds_refuse_bad_input():
    samples = _labelled({"2": 4})
    with pytest.raises(ValueError, match="k >= 2"):
        assign_folds(samples, k=1)
    with pytest.raises(ValueError, match="cannot fill"):
        assign_folds(samples, k=5)
    with pytest.raises(ValueError, match="img/2_0000.png"):
        assign_folds(samples + samples[:1], k=2)


def test_folds_on_real_crops(data_root):
    samples = load_samples(data_root / "train")[0] + load_samples(data_root / "val")[0]
    folds = assign_folds(samples, k=5, seed=0)
    strata = [region_stratum(s.text) for s in samples]
    _check_folds(samples, folds, 5, strata)
    assert sorted(Counter(folds).values()) == sorted([len(samples) // 5 + (i < len(samples) % 5) for i in range(5)])
    reversed_folds = assign_folds(samples[::-1], k=5, seed=0)
    assert reversed_folds[::-1] == folds


# Summaries, on records written by hand

def _record(recipe, seed, fold_hits, pretrain_s=600.0, fold_s=(60.0, 120.0), tilt=(3, 2), degraded=None, curves=None):
    """k=2, four crops a fold, every truth A123BC77; fold_hits[f] crops of fold f read right greedily
    (a wrong one by one substituted character) and by the decoder."""
    crops, folds = [], []
    for f, hits in enumerate(fold_hits):
        for j in range(4):
            read = "A123BC77" if j < hits else "A123BC78"
            crops.append({"source": f"s{f}_{j}", "fold": f, "truth": "A123BC77", "greedy": read, "read": read,
                          "confidence": 0.9})
        proxies = {key: tilt[f] for key in count_keys()}
        proxies["degraded"] = (degraded or [[1.0, 0.0, 16]] * 2)[f]
        folds.append({"fold": f, "n": 4, "exact_match": hits / 4, "cer": (4 - hits) / 32, "exact_match_read": hits / 4,
                      "cer_read": (4 - hits) / 32, "wall_seconds": fold_s[f], "proxies": proxies,
                      "curve": (curves or [[{"epoch": 1, "exact_match": 0.5, "cer": 0.1}]] * 2)[f]})
    return {"recipe": recipe, "seed": seed, "k": 2, "n": 8, "pretrain": {"wall_seconds": pretrain_s}, "folds": folds,
            "crops": crops}


def test_summarize_by_hand():
    records = [_record("A", 1, (4, 2), degraded=[[0.5, 0.1, 16], [0.25, 0.2, 16]]),
               _record("B", 1, (4, 4)),
               _record("A", 2, (4, 4), pretrain_s=1200.0, fold_s=(180.0, 180.0), tilt=(4, 4))]
    a, b = summarize(records)
    assert a["recipe"] == "A" and b["recipe"] == "B" and a["seeds"] == 2 and b["seeds"] == 1
    # seed 1 reads 6 of 8 (CER 2/64), seed 2 reads 8 of 8
    assert a["exact_match"] == pytest.approx(0.875)
    assert a["exact_match_sd_seeds"] == pytest.approx(math.sqrt(2 * 0.125 ** 2))
    assert a["exact_match_sd_folds"] == pytest.approx((math.sqrt(2 * 0.25 ** 2) + 0.0) / 2)  # folds 1.0, 0.5; 1.0, 1.0
    assert a["cer"] == pytest.approx(1 / 64)
    assert a["cer_sd_seeds"] == pytest.approx(math.sqrt(2 * (1 / 64) ** 2))
    assert a["exact_match_read"] == pytest.approx(0.875)
    assert a["tilt9"] == pytest.approx(6.5) and a["right10"] == pytest.approx(6.5)  # (3 + 2 + 4 + 4) / 2
    # seed 1: (8 + 4) of 32 degraded crops, CER (0.1 * 128 + 0.2 * 128) / 256; seed 2: all right
    assert a["degraded_exact_match"] == pytest.approx((0.375 + 1.0) / 2)
    assert a["degraded_cer"] == pytest.approx((0.15 + 0.0) / 2)
    assert a["pretrain_minutes"] == pytest.approx(15.0) and a["finetune_minutes"] == pytest.approx(4.5)
    assert a["wall_minutes"] == pytest.approx(19.5)
    assert b["exact_match"] == 1.0 and b["exact_match_sd_seeds"] is None and b["exact_match_sd_folds"] == 0.0


def test_summarize_refuses_a_seed_twice():
    with pytest.raises(ValueError, match="two records of one seed"):
        summarize([_record("A", 1, (4, 4)), _record("A", 1, (4, 3))])


def test_paired_difference_by_hand():
    a = [_record("A", 1, (4, 2)), _record("A", 2, (4, 4))]
    b = [_record("B", 1, (3, 3)), _record("B", 2, (4, 3)), _record("B", 3, (0, 0))]  # seed 3: A has none
    diff = paired_difference(a, b)
    assert [(p["seed"], p["fold"]) for p in diff["pairs"]] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert [p["difference"] for p in diff["pairs"]] == [0.25, -0.25, 0.0, 0.25]
    assert diff["n"] == 4 and diff["mean"] == pytest.approx(0.0625)
    assert diff["sd"] == pytest.approx(math.sqrt((0.1875 ** 2 * 2 + 0.3125 ** 2 + 0.0625 ** 2) / 3))
    assert (diff["a_better"], diff["b_better"], diff["ties"]) == (2, 1, 1)


def test_paired_difference_needs_the_same_folds():
    a, b = [_record("A", 1, (4, 2))], [_record("B", 1, (3, 3))]
    b[0]["crops"][0]["fold"], b[0]["crops"][4]["fold"] = 1, 0  # one crop swapped between the folds
    with pytest.raises(ValueError, match="do not pair"):
        paired_difference(a, b)
    with pytest.raises(ValueError, match="one recipe"):
        paired_difference(a + [_record("C", 2, (4, 4))], b)


def test_cv_script_compares_two_recipes(tmp_path):
    paths = []
    for record in [_record("A", 1, (4, 2)), _record("A", 2, (4, 4)), _record("B", 1, (3, 3)), _record("B", 2, (4, 3))]:
        for fold in record["folds"]:
            fold["exact_match"] = 0.0  # greedy decoding is not what the comparison reads
        paths.append(tmp_path / f"{record['recipe']}_seed{record['seed']}.json")
        paths[-1].write_text(json.dumps(record))
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "cv.py"), "--compare", *map(str, paths)],
                         capture_output=True, text=True, check=True).stdout
    assert "seed 1 fold 1: 50.00 - 75.00 = -25.00 pp" in out
    assert "mean +6.25 pp, sd 23.94 pp over 4 folds; A better in 2, B better in 1, tied in 1" in out
    (tmp_path / "nothing.json").write_text("[]")
    with pytest.raises(ValueError, match="nothing.json is not a cross-validation record"):
        crossval.load_records(tmp_path / "nothing.json")


def _curves(points_per_fold):
    return [[{"epoch": e + 1, "exact_match": em, "cer": cer} for e, (em, cer) in enumerate(points)]
            for points in points_per_fold]


def test_epochs_from_folds_takes_the_best_mean_exact_match():
    curves = _curves([[(0.5, 0.1), (0.7, 0.05), (0.9, 0.02), (0.8, 0.01)],
                      [(0.5, 0.1), (0.9, 0.05), (0.8, 0.02), (0.8, 0.01)]])
    records = [_record("A", 1, (4, 4), curves=curves)]
    assert [p["exact_match"] for p in mean_curve(records)] == pytest.approx([0.5, 0.8, 0.85, 0.8])
    assert epochs_from_folds(records) == 3


def test_epochs_from_folds_breaks_ties_by_cer_then_fewer_epochs():
    by_cer = _curves([[(0.9, 0.03), (0.7, 0.01), (0.9, 0.02)], [(0.8, 0.03), (0.8, 0.01), (0.8, 0.02)]])
    # epochs 1 and 3 tie at 0.85; 3 has the lower CER
    assert epochs_from_folds([_record("A", 1, (4, 4), curves=by_cer)]) == 3
    by_length = _curves([[(0.1, 0.3), (0.3, 0.2), (0.2, 0.2)], [(0.2, 0.3), (0.1, 0.2), (0.2, 0.2)]])
    # epochs 2 and 3: mean exact match (0.3 + 0.1) / 2 and (0.2 + 0.2) / 2, the same CER: the fewer epochs win
    assert epochs_from_folds([_record("A", 1, (4, 4), curves=by_length)]) == 2


def test_coverage_at_by_hand():
    conf = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    right = [1, 1, 1, 0, 1, 1, 1, 1, 0, 0]
    at = coverage_at(conf, right, coverage=0.75)  # 8 of 10 is the least coverage at or above 75%
    assert at == pytest.approx({"threshold": 0.2, "coverage": 0.8, "flagged": 0.2, "accuracy": 7 / 8, "kept": 8})
    assert coverage_at(conf, right, coverage=1.0)["accuracy"] == pytest.approx(0.7)
    tied = coverage_at([0.9, 0.5, 0.5, 0.5], [1, 1, 0, 1], coverage=0.5)  # the tie is kept whole
    assert tied["coverage"] == 1.0 and tied["accuracy"] == 0.75
    with pytest.raises(ValueError, match="coverage"):
        coverage_at(conf, right, coverage=0.0)


# The state hand-off in train.fit

def test_fast_forward_sets_what_stepping_sets():
    def build(total):
        weight = torch.nn.Parameter(torch.ones(3))
        optimizer = torch.optim.AdamW([weight], lr=3e-3)
        return weight, optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=total,
                                                                      pct_start=0.15)

    for total in (20, 31):
        weight, optimizer, stepped = build(total)
        for _ in range(7):
            weight.sum().backward()
            optimizer.step()
            stepped.step()
        _, fresh_optimizer, fresh = build(total)
        fast_forward(fresh, 7)
        assert fresh.last_epoch == stepped.last_epoch == 7
        assert fresh.get_last_lr() == stepped.get_last_lr()
        assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
        assert fresh_optimizer.param_groups[0]["betas"] == optimizer.param_groups[0]["betas"]


def _weights(run_dir):
    return torch.load(run_dir / "last.pth", weights_only=True)


def test_start_from_pretraining_equals_an_uninterrupted_fit(tmp_path, val_samples, font_path, texts_path):
    train, val, other_val = val_samples[:32], val_samples[32:48], val_samples[48:60]
    config = lambda name: _config(tmp_path / name, font_path, texts_path, synth_per_epoch=32)  # noqa: E731
    whole = fit(config("whole"), train, val)
    first = fit(config("pretrain"), train, val, stop_epoch=1)
    assert [h["stage"] for h in first.history] == ["pretrain"]
    second = fit(config("fold"), train, other_val, start_from=tmp_path / "pretrain" / "last.pth")
    assert [h["epoch"] for h in second.history] == [1, 2]  # its own history, on its own val
    assert [h["train_loss"] for h in second.history] == [h["train_loss"] for h in whole.history[1:]]
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "fold")
    assert a["model"].keys() == b["model"].keys() and all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["scheduler"] == b["scheduler"]


def test_start_from_with_another_train_size_rebuilds_the_schedule(tmp_path, val_samples, font_path, texts_path):
    config = lambda name: _config(tmp_path / name, font_path, texts_path, synth_per_epoch=32)  # noqa: E731
    fit(config("pretrain"), val_samples[:32], val_samples[32:48], stop_epoch=1)
    pretrained = _weights(tmp_path / "pretrain")["scheduler"]
    assert (pretrained["total_steps"], pretrained["last_epoch"]) == (2 + 2 * 3, 2)  # 32 plates; 2 x (32 + 16) crops
    fit(config("fold"), val_samples[:16], val_samples[32:48], start_from=tmp_path / "pretrain" / "last.pth")
    scheduler = _weights(tmp_path / "fold")["scheduler"]
    # the fold's plan: 2 x ceil((16 + 8) / 16) steps after the 2 pretraining steps; one full batch a fine-tuning epoch
    assert (scheduler["total_steps"], scheduler["last_epoch"]) == (2 + 2 * 2, 2 + 2 * 1)


# run_cv end to end

def test_run_cv_end_to_end_and_resumed(tmp_path, val_samples, font_path, texts_path, monkeypatch):
    samples = val_samples[:60]
    config = CVConfig(recipe="tiny", train=_config(tmp_path / "unused", font_path, texts_path), k=2, seeds=(0,))
    calls, epochs = [], []
    real_fit, real_epoch = train_module.fit, train_module.train_epoch

    def spy_fit(cfg, train, val, **kw):
        calls.append(([s.source for s in train], [s.source for s in val], kw))
        return real_fit(cfg, train, val, **kw)

    def spy_epoch(*args):
        epochs.append(args[-1])
        return real_epoch(*args)

    monkeypatch.setattr(train_module, "fit", spy_fit)
    monkeypatch.setattr(train_module, "train_epoch", spy_epoch)
    (record,) = run_cv(config, samples, tmp_path / "runs", tmp_path / "records")
    assert crossval.load_records(tmp_path / "records") == [json.loads(json.dumps(record))]
    # found again for these crops only; the recipe it ran is the config's, but for the seed
    assert crossval.records_for(tmp_path / "records", samples) == [json.loads(json.dumps(record))]
    assert crossval.records_for(tmp_path / "records", samples[:-1]) == []
    assert crossval.records_for(tmp_path / "none", samples) == []
    assert crossval.recipe_differences(record, replace(config.train, seed=7, threads=1)) == []
    assert crossval.recipe_differences(record, replace(config.train, finetune_epochs=3, lr=1e-3)) == \
        ["finetune_epochs", "lr"]
    assert crossval.recipe_differences(record, replace(config.train, model=replace(TINY, lstm_hidden=8))) == \
        ["model.lstm_hidden"]

    folds = assign_folds(samples, k=2, seed=0)
    names = crossval.relative_sources(samples)
    assert sorted(c["source"] for c in record["crops"]) == sorted(names)  # every crop out of fold exactly once
    assert all(c["fold"] == folds[names.index(c["source"])] for c in record["crops"])
    assert all(c["truth"] == samples[names.index(c["source"])].text for c in record["crops"])

    pretrain, *fold_calls = calls
    assert pretrain[2] == {"stop_epoch": 1} and pretrain[1] == [s.source for s in samples]  # renders only, reads all
    assert len(fold_calls) == 2
    for fold, (train, val, kw) in enumerate(fold_calls):
        held = [s.source for s, f in zip(samples, folds) if f == fold]
        assert val == held and not set(train) & set(held)  # never trains on its held-out crops
        assert sorted(train + val) == sorted(s.source for s in samples)
        assert kw["start_from"] == tmp_path / "runs" / "tiny" / "seed0" / "pretrain" / "last.pth"
    assert epochs == [0, 1, 2, 1, 2]  # one pretraining epoch, then two fine-tuning epochs a fold

    for row in record["folds"]:
        assert [p["epoch"] for p in row["curve"]] == [1, 2]
        mine = [c for c in record["crops"] if c["fold"] == row["fold"]]
        assert row["n"] == len(mine)
        # the fold's model is the last epoch's: its greedy readings score what that epoch's validation did
        assert row["exact_match"] == row["curve"][-1]["exact_match"]
        assert row["cer"] == pytest.approx(row["curve"][-1]["cer"])
        assert set(row["proxies"]) == set(count_keys()) | {"degraded"}
        assert row["proxies"]["degraded"][2] == 4 * len(mine)
        logits = np.load(tmp_path / "runs" / "tiny" / "seed0" / f"fold{row['fold']}" / "oof.npz")["logits"]
        assert logits.shape == (len(mine), TINY.time_steps, TINY.num_classes)
    assert record["pretrain"]["curve"][0]["epoch"] == 1 and len(record["pretrain"]["curve"]) == 1
    assert 0 < record["temperature"]
    assert len(json.dumps(record)) < 300 * len(samples)  # small: no logits

    marks = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*") if p.suffix in (".pth", ".npz")}
    calls.clear()
    epochs.clear()
    (again,) = run_cv(config, samples, tmp_path / "runs")
    assert epochs == []  # nothing retrained
    assert {p: p.stat().st_mtime_ns for p in marks} == marks
    assert [c[2] for c in calls] == [{"stop_epoch": 1}]  # the finished pretraining is opened; the folds read back
    strip = lambda r: {k: v for k, v in r.items() if k not in ("created", "environment")}  # noqa: E731
    assert strip(again) == strip(record)


def test_recipes_that_differ_in_fine_tuning_alone_share_one_pretraining(tmp_path, val_samples, font_path, texts_path,
                                                                        monkeypatch):
    samples = val_samples[:40]
    base = _config(tmp_path / "unused", font_path, texts_path, finetune_epochs=1)
    pretrained = []
    real_fit = train_module.fit

    def spy_fit(cfg, train, val, **kw):
        if "stop_epoch" in kw:
            pretrained.append(Path(cfg.out_dir).relative_to(tmp_path / "runs").as_posix())
        return real_fit(cfg, train, val, **kw)

    monkeypatch.setattr(train_module, "fit", spy_fit)
    epochs = []
    real_epoch = train_module.train_epoch
    monkeypatch.setattr(train_module, "train_epoch", lambda *args: epochs.append(args[-1]) or real_epoch(*args))
    for recipe, train in (("base", base), ("swap", replace(base, real_region_swap=0.5)),
                          ("lr", replace(base, lr=1e-3))):
        epochs.clear()
        (record,) = run_cv(CVConfig(recipe=recipe, train=train, k=2, seeds=(0,), proxies=False), samples,
                           tmp_path / "runs")
        assert record["train_config"]["real_region_swap"] == train.real_region_swap
        assert epochs == ([1, 1] if recipe == "swap" else [0, 1, 1])  # "swap" trains no pretraining epoch
    assert pretrained == ["base/seed0/pretrain", "base/seed0/pretrain", "lr/seed0/pretrain"]
    assert not (tmp_path / "runs" / "swap" / "seed0" / "pretrain").exists()


def test_run_cv_refuses_a_recipe_without_fine_tuning(tmp_path, font_path, texts_path):
    config = CVConfig(train=_config(tmp_path, font_path, texts_path, finetune_epochs=0))
    with pytest.raises(ValueError, match="finetune_epochs"):
        run_cv(config, _labelled({"2": 10}), tmp_path)


def test_select_gives_the_kept_recipes_epochs_temperature_and_floor_only_when_it_ran_this_recipe():
    records = [_record("A", 1, (4, 2)), _record("A", 2, (4, 4)), _record("B", 1, (3, 3)), _record("B", 2, (4, 3))]
    for r, temperature in zip(records, (0.8, 1.0, 2.0, 2.0)):
        r["temperature"], r["train_config"] = temperature, {}  # {}: every field at its default (TrainConfig())
    chosen = crossval.select(records, "A", TrainConfig())
    assert chosen.applied and chosen.differs == []
    assert [r["recipe"] for r in chosen.rows] == ["A", "B"]
    # A minus B fold by fold: 1 - 0.75, 0.5 - 0.75, 1 - 1, 1 - 0.75
    assert chosen.differences["B"]["mean"] == pytest.approx(0.0625) and chosen.differences["B"]["n"] == 4
    assert chosen.finetune_epochs == 1 and chosen.temperature == pytest.approx(0.9)
    # every confidence 0.9: the floor keeps all 16 out-of-fold readings, 14 of them right
    assert chosen.right.tolist() == [True] * 6 + [False] * 2 + [True] * 8
    assert chosen.coverage["kept"] == 16 and chosen.coverage["accuracy"] == 0.875
    assert chosen.summary()["temperature"] == chosen.temperature and chosen.summary()["kept"] == "A"
    other = crossval.select(records, "A", replace(TrainConfig(), lr=1e-3))
    assert not other.applied and other.differs == ["lr"] and other.temperature is None and other.coverage is None
    assert other.differences["B"]["mean"] == pytest.approx(0.0625)  # the table and comparison still hold
    none = crossval.select(records[2:], "A", TrainConfig())
    assert not none.applied and [r["recipe"] for r in none.rows] == ["B"] and none.differences == {}
    assert crossval.select([], "A", TrainConfig()).rows == []
