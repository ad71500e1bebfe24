import pytest
import torch

from anpr_ocr.core.files import CheckpointError, file_sha256, save_atomic
from anpr_ocr.reader.checkpoint import FORMAT_VERSION, checkpoint_dict, load_model, read_checkpoint, save_checkpoint
from anpr_ocr.reader.model import CRNN, CRNNConfig

SMALL = CRNNConfig(channels=(8, 8, 16, 16, 16, 16), lstm_hidden=16)


def _model(config=SMALL, seed=0):
    torch.manual_seed(seed)
    model = CRNN(config)
    # move BatchNorm statistics off their defaults so they are part of what must survive
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 1, 32, 128))
    return model.eval()


def test_round_trip_identical_outputs(tmp_path):
    model = _model()
    path = tmp_path / "sub" / "m.pth"
    save_checkpoint(model, path, epoch=3, val_exact_match=0.5)
    loaded = load_model(path)
    assert not loaded.training
    assert loaded.config == SMALL
    x = torch.randn(2, 1, 32, 128)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    ckpt = read_checkpoint(path)
    assert ckpt["format_version"] == FORMAT_VERSION
    assert ckpt["kind"] == "fp32"
    assert ckpt["input_size"] == [32, 128]
    assert ckpt["epoch"] == 3 and ckpt["val_exact_match"] == 0.5
    assert [p.name for p in path.parent.iterdir()] == ["m.pth"]  # no temporary file left behind


def test_default_model_round_trip(tmp_path):
    model = _model(CRNNConfig())
    save_checkpoint(model, tmp_path / "d.pth")
    x = torch.randn(1, 1, 32, 128)
    with torch.no_grad():
        assert torch.equal(model(x), load_model(tmp_path / "d.pth")(x))


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        read_checkpoint(tmp_path / "absent.pth")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.pth")


def _expect_error(path, match=None):
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert path.name in str(info.value)
    if match:
        assert match in str(info.value)
    with pytest.raises(CheckpointError):
        load_model(path)
    return str(info.value)


def test_text_file(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not a checkpoint")
    _expect_error(path, "not a readable PyTorch checkpoint")


def test_plain_tensor(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    _expect_error(path, "no state_dict and config")


def test_dict_without_state_dict(tmp_path):
    path = tmp_path / "nostate.pth"
    ckpt = checkpoint_dict(_model())
    del ckpt["state_dict"]
    torch.save(ckpt, path)
    _expect_error(path, "no state_dict and config")


def test_bare_state_dict(tmp_path):
    path = tmp_path / "bare.pth"
    torch.save(_model().state_dict(), path)
    _expect_error(path, "no state_dict and config")


def test_other_alphabet(tmp_path):
    path = tmp_path / "latin.pth"
    ckpt = checkpoint_dict(_model())
    ckpt["alphabet"] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    torch.save(ckpt, path)
    _expect_error(path, "alphabet")


def test_mismatched_input_size(tmp_path):
    path = tmp_path / "size.pth"
    ckpt = checkpoint_dict(_model())
    ckpt["input_size"] = [64, 256]
    torch.save(ckpt, path)
    _expect_error(path, "input size [64, 256]")


@pytest.mark.parametrize("version", [0, 2, None, "1"])
def test_wrong_format_version(tmp_path, version):
    path = tmp_path / "version.pth"
    ckpt = checkpoint_dict(_model())
    ckpt["format_version"] = version
    torch.save(ckpt, path)
    _expect_error(path, f"checkpoint format {version}")


def test_state_dict_from_another_config(tmp_path):
    path = tmp_path / "mixed.pth"
    ckpt = checkpoint_dict(_model())
    ckpt["state_dict"] = _model(CRNNConfig(channels=(8, 8, 16, 16, 16, 32), lstm_hidden=16)).state_dict()
    torch.save(ckpt, path)
    read_checkpoint(path)  # the header is fine...
    with pytest.raises(CheckpointError, match="weights do not fit") as info:
        load_model(path)  # ...the weights are not
    assert "mixed.pth" in str(info.value)


def test_quantized_kind_is_refused_by_load_model(tmp_path):
    path = tmp_path / "q.pth"
    save_checkpoint(_model(), path, kind="int8")
    assert read_checkpoint(path)["kind"] == "int8"
    with pytest.raises(CheckpointError, match="load_quantized"):
        load_model(path)


def test_pickled_objects_are_not_loaded(tmp_path):
    path = tmp_path / "pickle.pth"
    ckpt = checkpoint_dict(_model())
    ckpt["extra"] = object()  # weights_only loading must refuse arbitrary objects
    torch.save(ckpt, path)
    _expect_error(path, "not a readable PyTorch checkpoint")


@pytest.mark.parametrize("config", [{"channels": [8], "colour": True}, {"height": 32}, "default"])
def test_malformed_config_is_a_checkpoint_error(tmp_path, config):
    path = tmp_path / "cfg.pth"
    ckpt = checkpoint_dict(_model())
    ckpt["config"] = config
    torch.save(ckpt, path)
    _expect_error(path)


def test_save_atomic_replaces(tmp_path):
    path = tmp_path / "obj.pt"
    save_atomic({"a": 1}, path)
    save_atomic({"a": 2}, path)
    assert torch.load(path, weights_only=True) == {"a": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obj.pt"]


def test_file_sha256_names_the_exact_bytes(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 example


def _training_state(model: CRNN) -> dict:
    """A last.pth as train.reader.fit writes one (its keys; values a fresh optimiser's)."""
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=10)
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "history": [{"epoch": 0}], "best": {"epoch": 0}, "epoch": 0, "elapsed": 1.5,
            "rng": {"cpu": torch.get_rng_state(), "cuda": []}, "cuts": None}


def test_training_state_reads_back_and_gives_its_model(tmp_path):
    from anpr_ocr.reader.checkpoint import load_training_model, read_training_state

    model = _model()
    path = tmp_path / "last.pth"
    save_atomic(_training_state(model), path)
    state = read_training_state(path)
    assert state["epoch"] == 0 and state["history"] == [{"epoch": 0}] and state["elapsed"] == 1.5
    loaded = load_training_model(path, SMALL)
    assert not loaded.training
    x = torch.randn(2, 1, 32, 128)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_training_model(path, CRNNConfig())  # weights of another architecture


def test_a_model_checkpoint_is_no_training_state(tmp_path):
    from anpr_ocr.detector.checkpoint import read_detector_training_state
    from anpr_ocr.reader.checkpoint import read_training_state

    path = tmp_path / "best.pth"
    save_checkpoint(_model(), path)
    with pytest.raises(CheckpointError, match="not a reader's training state"):
        read_training_state(path)
    save_atomic(_training_state(_model()), path)  # a reader's last.pth has no detector "step"
    with pytest.raises(CheckpointError, match="not a detector's training state"):
        read_detector_training_state(path)
    with pytest.raises(FileNotFoundError, match="no training state"):
        read_training_state(tmp_path / "missing.pth")
