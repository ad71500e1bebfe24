import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from anpr_ocr import predict
from anpr_ocr.cli.main import main
from anpr_ocr.core.images import preprocess, read_image
from anpr_ocr.reader.checkpoint import load_model, read_checkpoint
from anpr_ocr.reader.decode import greedy_decode
from anpr_ocr.reader.model import CRNN, CRNNConfig, count_parameters
from anpr_ocr.train import reader as train_module
from anpr_ocr.train.augment import TiltedBox
from anpr_ocr.train.dataset import RealPlates, SyntheticPlates
from anpr_ocr.train.reader import (
    WEATHER_FRACTION,
    FitResult,
    TrainConfig,
    epoch_plan,
    fit,
    recipe_synth,
    steps_per_epoch,
)
from anpr_ocr.train.synth import PlateRenderer, SynthConfig

REPO = Path(__file__).resolve().parents[1]

TINY = CRNNConfig(channels=(8, 16, 16, 24, 24, 32), lstm_hidden=16)
HISTORY_KEYS = {"epoch", "stage", "train_loss", "val_loss", "val_exact_match", "val_cer", "lr", "seconds"}


def _config(tmp_path, font_path, texts_path, **kw):
    base = dict(out_dir=str(tmp_path / "run"), synth=SynthConfig(font_path=str(font_path), texts_path=str(texts_path)),
                model=TINY, pretrain_epochs=1, synth_per_epoch=64, finetune_epochs=1, synth_mix=0.5,
                batch_size=16, num_workers=0, threads=1, device="cpu", seed=0)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, val_samples, font_path, texts_path):
    tmp = tmp_path_factory.mktemp("fit")
    config = _config(tmp, font_path, texts_path)
    result = fit(config, val_samples[:32], val_samples[32:48])
    return config, result


def test_fit_writes_outputs(finished_run):
    config, result = finished_run
    out = result.best_path.parent
    assert str(out) == config.out_dir
    assert sorted(p.name for p in out.iterdir()) == ["best.pth", "best_pretrain.pth", "config.json", "history.json",
                                                     "last.pth"]
    assert result.best_path.name == "best.pth"
    assert result.parameters == count_parameters(CRNN(TINY))
    assert result.wall_seconds > 0


def test_fit_history(finished_run):
    config, result = finished_run
    history = json.loads((result.best_path.parent / "history.json").read_text())
    assert history == result.history
    assert len(history) == 2  # one row per epoch
    assert [row["stage"] for row in history] == ["pretrain", "finetune"]
    assert [row["epoch"] for row in history] == [0, 1]
    for row in history:
        assert set(row) == HISTORY_KEYS
        assert 0.0 <= row["val_exact_match"] <= 1.0
        assert row["val_cer"] >= 0.0
        assert row["train_loss"] > 0 and row["val_loss"] > 0
        assert row["lr"] > 0
    assert history[0]["seconds"] <= history[1]["seconds"]
    best = max(history, key=lambda r: (r["val_exact_match"], -r["val_cer"]))
    assert result.best["epoch"] == best["epoch"]


def test_fit_config_json(finished_run):
    config, result = finished_run
    saved = json.loads((result.best_path.parent / "config.json").read_text())
    assert saved == json.loads(json.dumps(config.to_dict()))
    assert saved["model"]["channels"] == [8, 16, 16, 24, 24, 32]
    assert saved["synth_per_epoch"] == 64


def test_fit_best_checkpoint_loads(finished_run):
    _, result = finished_run
    ckpt = read_checkpoint(result.best_path)
    assert ckpt["epoch"] == result.best["epoch"]
    assert ckpt["val_exact_match"] == result.best["val_exact_match"]
    assert ckpt["seed"] == 0
    assert ckpt["stage"] == result.best["stage"]
    model = load_model(result.best_path)
    assert model.config == TINY
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 32, 128)).shape == (2, 32, 23)


def test_fit_best_pretrain_checkpoint(finished_run):
    _, result = finished_run
    path = result.best_path.parent / "best_pretrain.pth"
    ckpt = read_checkpoint(path)  # the synthetic-only model: the one pretraining epoch
    assert ckpt["stage"] == "pretrain" and ckpt["epoch"] == 0
    assert ckpt["val_exact_match"] == result.history[0]["val_exact_match"]
    assert ckpt["val_cer"] == result.history[0]["val_cer"]
    assert load_model(path).config == TINY


def test_fit_last_checkpoint(finished_run):
    _, result = finished_run
    state = torch.load(result.best_path.parent / "last.pth", weights_only=True)
    assert set(state) == {"model", "optimizer", "scheduler", "history", "best", "epoch", "elapsed", "rng", "cuts"}
    assert state["cuts"] is None  # no region swaps in this recipe
    assert state["epoch"] == 1
    assert state["history"] == result.history
    # 64 synthetic / 16 + (32 real + 16 synthetic) / 16 = 4 + 3 optimiser steps
    assert state["scheduler"]["last_epoch"] == 6
    assert state["scheduler"]["total_steps"] == 7


def test_resume_after_completion_does_not_retrain(finished_run, val_samples):
    config, result = finished_run
    out = result.best_path.parent
    best_before = result.best_path.read_bytes()
    pretrain_before = (out / "best_pretrain.pth").read_bytes()
    last_before = (out / "last.pth").read_bytes()
    config.resume = True
    try:
        again = fit(config, val_samples[:32], val_samples[32:48])
    finally:
        config.resume = False
    assert len(again.history) == 2
    assert again.history == result.history
    assert again.best == result.best
    assert json.loads((out / "history.json").read_text()) == result.history
    assert result.best_path.read_bytes() == best_before
    assert (out / "last.pth").read_bytes() == last_before
    assert (out / "best_pretrain.pth").read_bytes() == pretrain_before


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, val_samples, font_path, texts_path, monkeypatch):
    train, val = val_samples[:32], val_samples[32:48]
    whole = fit(_config(tmp_path / "whole", font_path, texts_path, synth_per_epoch=32), train, val)
    real_epoch = train_module.train_epoch

    def crash_in_second_epoch(model, dataset, optimizer, scheduler, config, device, epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return real_epoch(model, dataset, optimizer, scheduler, config, device, epoch)

    config = _config(tmp_path / "cut", font_path, texts_path, synth_per_epoch=32, resume=True)
    monkeypatch.setattr(train_module, "train_epoch", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(config, train, val)
    monkeypatch.setattr(train_module, "train_epoch", real_epoch)
    resumed = fit(config, train, val)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]
    a = torch.load(whole.best_path.parent / "last.pth", weights_only=True)["model"]
    b = torch.load(resumed.best_path.parent / "last.pth", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_region_swaps_are_cut_once_after_pretraining_and_resume_exactly(tmp_path, val_samples, font_path, texts_path,
                                                                          monkeypatch):
    train, val = val_samples[:32], val_samples[32:48]
    kw = dict(synth_per_epoch=32, finetune_epochs=2, real_region_swap=0.5)
    placed = []
    real_cuts = train_module.cut_columns

    def spy_cuts(model, samples):
        placed.append(len(samples))
        return real_cuts(model, samples)

    monkeypatch.setattr(train_module, "cut_columns", spy_cuts)
    whole = fit(_config(tmp_path / "whole", font_path, texts_path, **kw), train, val)
    assert placed == [len(train)]  # once, when fine-tuning starts
    state = torch.load(whole.best_path.parent / "last.pth", weights_only=True)
    assert len(state["cuts"]) == len(train) and all(0 < c < s.image.shape[1] for c, s in zip(state["cuts"], train))
    plain = fit(_config(tmp_path / "plain", font_path, texts_path, **{**kw, "real_region_swap": 0.0}), train, val)
    assert plain.history[0]["train_loss"] == whole.history[0]["train_loss"]  # pretraining is untouched
    assert plain.history[1]["train_loss"] != whole.history[1]["train_loss"]

    real_epoch = train_module.train_epoch

    def crash_in_last_epoch(model, dataset, optimizer, scheduler, config, device, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return real_epoch(model, dataset, optimizer, scheduler, config, device, epoch)

    config = _config(tmp_path / "cut", font_path, texts_path, resume=True, **kw)
    monkeypatch.setattr(train_module, "train_epoch", crash_in_last_epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(config, train, val)
    monkeypatch.setattr(train_module, "train_epoch", real_epoch)
    placed.clear()
    resumed = fit(config, train, val)
    assert placed == []  # the cuts come back with the run
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]


def test_fit_without_val_keeps_the_last_epoch(tmp_path, val_samples, font_path, texts_path):
    config = _config(tmp_path, font_path, texts_path, pretrain_epochs=2, finetune_epochs=2)
    result = fit(config, val_samples[:32], None)
    out = result.best_path.parent
    assert [h["epoch"] for h in result.history] == [0, 1, 2, 3]
    assert all(set(h) == HISTORY_KEYS - {"val_loss", "val_exact_match", "val_cer"} for h in result.history)
    assert result.best == result.history[-1]
    last = torch.load(out / "last.pth", weights_only=True)["model"]
    best = read_checkpoint(result.best_path)
    assert best["epoch"] == 3 and best["stage"] == "finetune" and "val_exact_match" not in best
    assert all(torch.equal(best["state_dict"][k], last[k]) for k in last)
    pretrain = read_checkpoint(out / "best_pretrain.pth")  # the last pretraining epoch, not the first
    assert pretrain["epoch"] == 1 and pretrain["stage"] == "pretrain"
    assert not all(torch.equal(pretrain["state_dict"][k], last[k]) for k in last)


def test_fit_rejects_empty_val(tmp_path, val_samples, font_path, texts_path):
    with pytest.raises(ValueError, match="validation"):
        fit(_config(tmp_path, font_path, texts_path), val_samples[:8], [])
    assert not (tmp_path / "run").exists()


def test_fit_rejects_finetuning_without_train(tmp_path, val_samples, font_path, texts_path):
    with pytest.raises(ValueError, match="real training samples"):
        fit(_config(tmp_path, font_path, texts_path), [], val_samples[:8])


@pytest.mark.parametrize("tilt", [9.0, 0.0])
def test_epoch_plan_cuts_tilted_boxes_from_real_crops_only(tmp_path, val_samples, font_path, texts_path, tilt):
    config = _config(tmp_path, font_path, texts_path, real_box_tilt=tilt)
    plan = epoch_plan(config, val_samples[:8], PlateRenderer(config.synth))
    assert [stage for stage, _ in plan] == ["pretrain", "finetune"]
    real, synthetic = plan[1][1].datasets
    assert isinstance(real, RealPlates) and isinstance(synthetic, SyntheticPlates)
    assert isinstance(plan[0][1], SyntheticPlates)
    tilted = [t.limit for t in real.augmentation.transforms if isinstance(t, TiltedBox)]
    assert tilted == ([tilt] if tilt else [])
    for rendered in (plan[0][1], synthetic):  # the renderer draws its own box crops
        assert not any(isinstance(t, TiltedBox) for t in rendered.augmentation.transforms)


def test_a_reader_at_48_px_trains_on_48_px_plates_and_reads_at_48_px(tmp_path, val_samples, font_path, texts_path):
    config = _config(tmp_path, font_path, texts_path)
    config = replace(config, model=replace(config.model, height=48))
    plan = epoch_plan(config, val_samples[:8], PlateRenderer(config.synth))
    real, synthetic = plan[1][1].datasets
    for dataset in (plan[0][1], real, synthetic):
        assert dataset[0][0].shape == (1, 48, 128)
    best = fit(config, val_samples[:8], val_samples[8:12]).best_path
    assert load_model(best).input_size == (48, 128)
    assert len(predict([s.image for s in val_samples[:2]], weights=best)) == 2


def _notebook_cell(tag_or_text: str) -> str:
    """The source of the first ocr_train.ipynb code cell tagged `tag_or_text`, or else containing it."""
    cells = [c for c in json.loads((REPO / "ocr_train.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in cells if tag_or_text in c.get("metadata", {}).get("tags", [])]
    return "".join((tagged or [c for c in cells if tag_or_text in "".join(c["source"])])[0]["source"])


def test_the_notebooks_settings_default_from_the_recipe(monkeypatch):
    """ocr_train.ipynb's parameters cell takes its training settings from TrainConfig(): the recipe is written once."""
    monkeypatch.chdir(REPO)  # the notebook's default paths are relative to the repository
    params: dict = {}
    exec(_notebook_cell("parameters"), params)
    recipe = TrainConfig()
    assert params["RECIPE"] == recipe
    assert (params["SEED"], params["PRETRAIN_EPOCHS"], params["SYNTH_PER_EPOCH"], params["FINETUNE_EPOCHS"]) == \
        (recipe.seed, recipe.pretrain_epochs, recipe.synth_per_epoch, recipe.finetune_epochs)
    assert "replace(RECIPE," in _notebook_cell("main_config = ")  # the kept recipe is the recipe, resized
    assert recipe.model == CRNNConfig() and (recipe.real_box_tilt, recipe.real_box_tilt_fraction) == (10.0, 0.25)


def test_recipe_synth_takes_the_environment_and_falls_back(monkeypatch, tmp_path, font_path):
    monkeypatch.setenv("ANPR_FONT", str(font_path))
    monkeypatch.setenv("ANPR_TEXTS", str(tmp_path / "missing.txt"))
    assert recipe_synth() == SynthConfig(font_path=str(font_path), texts_path=None, weather_fraction=WEATHER_FRACTION)
    assert recipe_synth(0.0).weather_fraction == 0.0 and TrainConfig().synth.weather_fraction == WEATHER_FRACTION
    monkeypatch.setenv("ANPR_FONT", str(tmp_path / "missing.ttf"))
    assert recipe_synth().font_path is None


@pytest.mark.parametrize("world", [1, 2, 4])
@pytest.mark.parametrize("n", [1, 63, 64, 65, 128, 1000])
def test_steps_count_each_ranks_batches(n, world):
    """The schedule's length: the batches a rank's DistributedSampler share gives (a short last one included)."""
    batches = {len(DataLoader(range(n), batch_size=64 // world,
                              sampler=DistributedSampler(range(n), num_replicas=world, rank=r, seed=7)))
               for r in range(world)}
    assert batches == {steps_per_epoch(n, 64, world)}
    if world == 1:
        assert steps_per_epoch(n, 64, 1) == len(DataLoader(range(n), batch_size=64))


# -- the train command: `python -m anpr_ocr train`, on one process or under torchrun ------------------------

def _train_command(tmp_path, data_root, font_path, texts_path, *args: str, nproc: int = 0):
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc \
        else [sys.executable]
    command = [*launch, "-m", "anpr_ocr", "train", "--data", str(data_root), "--out", str(tmp_path / "run"),
               "--font", str(font_path), "--texts", str(texts_path), "--device", "cpu", "--threads", "1", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "run", done.stdout


def _assert_predict_reads(best: Path, crop: Path) -> None:
    """predict(crop, weights=best) reads what the checkpoint's model reads (an untrained one reads anything)."""
    model = load_model(best)
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(preprocess(read_image(crop)))[None]), dim=-1).numpy()
    assert predict(crop, weights=best, decoder="greedy").text == greedy_decode(probs)[0].text


@pytest.mark.parametrize("nproc, pretrain, steps", [
    (0, [], 1),  # 16 real crops + 16 rendered plates: one batch
    (2, [], 1),  # the same 32 split over 2 ranks: one batch of 16 on each
    (2, ["--pretrain-epochs", "1", "--synth-per-epoch", "128"], 3),  # 128 plates: 2 x 64, two batches of 32 on each
], ids=["one process", "torchrun 2", "torchrun 2 pretrain"])
def test_train_command_writes_a_run_predict_reads(tmp_path, data_root, font_path, texts_path, nproc, pretrain, steps):
    n_pretrain = 1 if pretrain else 0
    run, stdout = _train_command(tmp_path, data_root, font_path, texts_path, "--limit", "16", "--pretrain-epochs", "0",
                                 "--finetune-epochs", "1", *pretrain, nproc=nproc)
    assert sorted(p.name for p in run.iterdir()) == \
        sorted(["best.pth", "config.json", "history.json", "last.pth"] + ["best_pretrain.pth"] * n_pretrain)
    history = json.loads((run / "history.json").read_text())
    assert [h["stage"] for h in history] == ["pretrain"] * n_pretrain + ["finetune"]
    assert [h["epoch"] for h in history] == list(range(n_pretrain + 1))
    config = json.loads((run / "config.json").read_text())
    assert (config["pretrain_epochs"], config["finetune_epochs"], config["seed"]) == (n_pretrain, 1, TrainConfig().seed)
    assert (config["synth"]["font_path"], config["synth"]["texts_path"]) == (str(font_path), str(texts_path))
    last = torch.load(run / "last.pth", weights_only=True)
    assert last["history"] == history
    # the global batch stays 64: the optimiser steps taken, and the schedule's length, do not depend on nproc
    assert {s["step"].item() for s in last["optimizer"]["state"].values()} == {steps}
    assert last["scheduler"]["total_steps"] == steps
    best = read_checkpoint(run / "best.pth")
    assert best["epoch"] == max(history, key=lambda h: (h["val_exact_match"], -h["val_cer"]))["epoch"]
    assert set(best["state_dict"]) == set(last["model"]) == set(CRNN(CRNNConfig()).state_dict())  # no "module."
    _assert_predict_reads(run / "best.pth", sorted((data_root / "val" / "img").iterdir())[0])
    # only rank 0 prints: one load report per split, one summary
    assert stdout.count(f"{data_root / 'train'}: loaded") == 1 and stdout.count(f"{data_root / 'val'}: loaded") == 1
    assert stdout.count("trained on 16 crops, selected on 16") == 1


RANK_SCRIPT = """
import json, os, sys
import torch
from anpr_ocr.train import reader as train
from anpr_ocr.core.data import load_samples
from anpr_ocr.reader.model import CRNNConfig
from anpr_ocr.train.synth import SynthConfig

data, font, texts, out = sys.argv[1:]
rank, real_epoch = int(os.environ["RANK"]), train.train_epoch

def recorded_epoch(model, dataset, optimizer, scheduler, config, device, epoch):
    loss = real_epoch(model, dataset, optimizer, scheduler, config, device, epoch)
    weights = {k: v.detach() for k, v in model.module.named_parameters()}
    torch.save({"loss": loss, "weights": weights}, f"{out}/../rank{rank}_epoch{epoch}.pt")
    return loss

train.train_epoch = recorded_epoch
val, _ = load_samples(f"{data}/val")
config = train.TrainConfig(out_dir=out, synth=SynthConfig(font, texts), pretrain_epochs=1, synth_per_epoch=64,
                           finetune_epochs=1, model=CRNNConfig(channels=(8, 16, 16, 24, 24, 32), lstm_hidden=16),
                           num_workers=0, threads=1, device="cpu")
train.fit(config, val[:32], val[32:48])
"""


def test_torchrun_ranks_train_their_own_shares_in_step(tmp_path, data_root, font_path, texts_path):
    """Each rank sees other plates (its losses differ) yet DDP keeps the weights equal on every rank.

    (BatchNorm's running statistics are each rank's own, as with plain DDP; checkpoints hold rank 0's.)"""
    script = tmp_path / "ranks.py"
    script.write_text(RANK_SCRIPT)
    (tmp_path / "run").mkdir()
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script), str(data_root), str(font_path), str(texts_path), str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    for epoch in (0, 1):
        a, b = (torch.load(tmp_path / f"rank{r}_epoch{epoch}.pt", weights_only=True) for r in (0, 1))
        assert a["loss"] != b["loss"]
        assert a["weights"].keys() == b["weights"].keys()
        assert all(torch.equal(a["weights"][k], b["weights"][k]) for k in a["weights"])
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    losses = [[torch.load(tmp_path / f"rank{r}_epoch{e}.pt", weights_only=True)["loss"] for r in (0, 1)]
              for e in (0, 1)]
    assert [h["train_loss"] for h in history] == pytest.approx([(a + b) / 2 for a, b in losses])


def test_train_command_limit_and_defaults(tmp_path, data_root, monkeypatch):
    seen = {}

    def fake_fit(config, train, val):
        seen.update(config=config, train=train, val=val)
        return FitResult(Path(config.out_dir) / "best.pth", [], {"val_exact_match": 1.0, "val_cer": 0.0, "epoch": 0,
                                                                  "stage": "finetune"}, 1.0, 1)

    monkeypatch.setattr(train_module, "fit", fake_fit)
    assert main(["train", "--data", str(data_root), "--out", str(tmp_path / "run"), "--limit", "5", "--seed", "3",
                 "--finetune-epochs", "2"]) == 0
    for split in ("train", "val"):  # the first 5 crops of each split, in the loader's (sorted) order
        first = sorted(p.name for p in (data_root / split / "img").iterdir())[:5]
        assert [Path(s.source).name for s in seen[split]] == first
    config, recipe = seen["config"], TrainConfig()
    assert (config.seed, config.finetune_epochs, config.out_dir) == (3, 2, str(tmp_path / "run"))
    assert (config.pretrain_epochs, config.synth_per_epoch, config.threads) == \
        (recipe.pretrain_epochs, recipe.synth_per_epoch, recipe.threads)


def test_train_command_bad_arguments_give_one_line(tmp_path, data_root, capsys):
    empty = tmp_path / "empty"
    (empty / "train").mkdir(parents=True)
    (empty / "val").mkdir()
    only_train = tmp_path / "only_train"
    (only_train / "train").mkdir(parents=True)
    out = ["--out", str(tmp_path / "run")]
    for argv, named in ((["--data", str(tmp_path / "nowhere")], "nowhere"),
                        (["--data", str(only_train)], "val"),
                        (["--data", str(empty)], str(empty / "train")),
                        (["--data", str(data_root), "--limit", "0"], "--limit"),
                        (["--data", str(data_root), "--pretrain-epochs", "-1"], "--pretrain-epochs"),
                        (["--data", str(data_root), "--pretrain-epochs", "0", "--finetune-epochs", "0"], "nothing"),
                        (["--data", str(data_root), "--font", str(tmp_path / "no.ttf")], "no.ttf")):
        assert main(["train", *argv, *out]) == 1, argv
        err = capsys.readouterr().err  # the loading bars aside, one line
        errors = [line for line in err.splitlines() if line.startswith("anpr-ocr")]
        assert len(errors) == 1 and errors[0].startswith("anpr-ocr: error:") and named in errors[0], (argv, err)
        assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
    for argv in (["train", "--out", str(tmp_path)], ["train", "--data", str(data_root)],
                 ["train", "--data", str(data_root), *out, "--limit", "many"]):
        assert main(argv) == 2
        assert "Traceback" not in capsys.readouterr().err
