import ast
import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from anpr_ocr import train as train_module
from anpr_ocr.augment import TiltedBox
from anpr_ocr.checkpoint import load_model, read_checkpoint
from anpr_ocr.dataset import RealPlates, SyntheticPlates
from anpr_ocr.model import CRNN, CRNNConfig, count_parameters
from anpr_ocr.synth import PlateRenderer, SynthConfig
from anpr_ocr.train import TrainConfig, _epoch_plan, _steps, fit, recipe_synth

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
    assert set(state) == {"model", "optimizer", "scheduler", "history", "best", "epoch", "elapsed", "rng"}
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
    real_epoch = train_module._train_epoch

    def crash_in_second_epoch(model, dataset, optimizer, scheduler, config, device, epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return real_epoch(model, dataset, optimizer, scheduler, config, device, epoch)

    config = _config(tmp_path / "cut", font_path, texts_path, synth_per_epoch=32, resume=True)
    monkeypatch.setattr(train_module, "_train_epoch", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(config, train, val)
    monkeypatch.setattr(train_module, "_train_epoch", real_epoch)
    resumed = fit(config, train, val)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]
    a = torch.load(whole.best_path.parent / "last.pth", weights_only=True)["model"]
    b = torch.load(resumed.best_path.parent / "last.pth", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


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
    plan = _epoch_plan(config, val_samples[:8], PlateRenderer(config.synth))
    assert [stage for stage, _ in plan] == ["pretrain", "finetune"]
    real, synthetic = plan[1][1].datasets
    assert isinstance(real, RealPlates) and isinstance(synthetic, SyntheticPlates) and isinstance(plan[0][1], SyntheticPlates)
    tilted = [t.limit for t in real.augmentation.transforms if isinstance(t, TiltedBox)]
    assert tilted == ([tilt] if tilt else [])
    for rendered in (plan[0][1], synthetic):  # the renderer draws its own box crops
        assert not any(isinstance(t, TiltedBox) for t in rendered.augmentation.transforms)


def _notebook_cell(tag_or_text: str) -> str:
    """The source of the first ocr_train.ipynb code cell tagged `tag_or_text`, or else containing it."""
    cells = [c for c in json.loads((REPO / "ocr_train.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in cells if tag_or_text in c.get("metadata", {}).get("tags", [])]
    return "".join((tagged or [c for c in cells if tag_or_text in "".join(c["source"])])[0]["source"])


def _literal_keywords(source: str, call: str) -> dict:
    """The literal keyword arguments of the first call to `call` in `source`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == call:
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords
                    if k.arg and isinstance(k.value, ast.Constant)}
    raise AssertionError(f"no call to {call}")


def test_default_config_is_the_notebooks_recipe(monkeypatch):
    monkeypatch.chdir(REPO)  # the notebook's default paths are relative to the repository
    params: dict = {}
    exec(_notebook_cell("parameters"), params)
    base = _literal_keywords(_notebook_cell("base = dict("), "dict")
    main_run = _literal_keywords(_notebook_cell("main_config = TrainConfig("), "TrainConfig")
    default = TrainConfig()
    assert (default.seed, default.pretrain_epochs, default.synth_per_epoch, default.finetune_epochs) == \
        (params["SEED"], params["PRETRAIN_EPOCHS"], params["SYNTH_PER_EPOCH"], params["FINETUNE_EPOCHS"])
    assert (default.num_workers, default.threads, default.synth_mix) == \
        (base["num_workers"], base["threads"], main_run["synth_mix"])
    font, texts = params["FONT"], params["TEXTS"]  # the notebook's synth_config
    assert default.synth == SynthConfig(font_path=font if Path(font).is_file() else None,
                                        texts_path=texts if Path(texts).is_file() else None)
    assert default.model == CRNNConfig()
    assert (default.real_box_tilt, default.real_box_tilt_fraction) == (10.0, 0.25)


def test_recipe_synth_takes_the_environment_and_falls_back(monkeypatch, tmp_path, font_path):
    monkeypatch.setenv("ANPR_FONT", str(font_path))
    monkeypatch.setenv("ANPR_TEXTS", str(tmp_path / "missing.txt"))
    assert recipe_synth() == SynthConfig(font_path=str(font_path), texts_path=None)
    monkeypatch.setenv("ANPR_FONT", str(tmp_path / "missing.ttf"))
    assert recipe_synth().font_path is None


@pytest.mark.parametrize("world", [1, 2, 4])
@pytest.mark.parametrize("n", [1, 63, 64, 65, 128, 1000])
def test_steps_count_each_ranks_batches(n, world):
    """The schedule's length: the batches a rank's DistributedSampler share gives (a short last one included)."""
    batches = {len(DataLoader(range(n), batch_size=64 // world,
                              sampler=DistributedSampler(range(n), num_replicas=world, rank=r, seed=7)))
               for r in range(world)}
    assert batches == {_steps(n, 64, world)}
    if world == 1:
        assert _steps(n, 64, 1) == len(DataLoader(range(n), batch_size=64))
