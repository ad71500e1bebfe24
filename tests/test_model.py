from dataclasses import replace

import pytest
import torch

from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.reader.decode import greedy_decode
from anpr_ocr.reader.model import CRNN, CRNNConfig, count_parameters
from anpr_ocr.train.dataset import RealPlates, collate
from anpr_ocr.train.reader import ctc_loss

TINY = CRNNConfig(channels=(16, 32, 32, 48, 48, 64), lstm_hidden=48, dropout=0.0)


def test_default_config():
    config = CRNNConfig()
    assert (config.height, config.width) == (32, 128)
    assert config.num_classes == 23
    assert config.time_steps == 32
    assert config.alphabet == ALPHABET
    assert config.stem_stride == 2


def test_output_shape_default():
    model = CRNN().eval()
    with torch.no_grad():
        out = model(torch.zeros(3, 1, 32, 128))
    assert out.shape == (3, 32, 23)
    assert out.dtype == torch.float32


def test_output_shape_single_and_wider_input():
    model = CRNN(CRNNConfig(width=256, channels=(8, 8, 8, 8, 8, 8), lstm_hidden=8)).eval()
    assert model.config.time_steps == 64
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 32, 256)).shape == (1, 64, 23)


def test_default_parameter_count():
    # conv 3x3 weights 216 + 10368 + 27648 + 46080 + 69120 + 110592 = 264024, BN 2 * 440 = 880,
    # BiLSTM 2 * (4 * 96 * (256 + 96) + 2 * 4 * 96) = 271872, head 192 * 23 + 23 = 4439
    n = count_parameters(CRNN())
    assert n == 541_215
    assert n < 1_000_000  # a CPU-first model: well under a million weights


def test_parameter_count_tracks_config():
    assert count_parameters(CRNN(TINY)) == 147_239


def test_strided_stem_keeps_shapes_and_weights():
    # a stride-2 first conv replaces the first 2x2 max pool: same map sizes, same weights, one layer fewer
    pooled = CRNN(replace(TINY, stem_stride=1))
    strided = CRNN(TINY)
    assert count_parameters(strided) == count_parameters(pooled)
    assert len(strided.features) == len(pooled.features) - 1
    assert strided.features[0][0].stride == (2, 2)
    with torch.no_grad():
        assert strided.eval()(torch.zeros(2, 1, 32, 128)).shape == (2, 32, 23)


def test_stem_stride_must_be_one_or_two():
    with pytest.raises(ValueError, match="stem_stride"):
        CRNN(CRNNConfig(stem_stride=4))


def test_config_without_stem_stride_builds_the_pooled_stem():
    d = TINY.to_dict()
    del d["stem_stride"]  # checkpoints written before the option existed
    assert CRNNConfig.from_dict(d).stem_stride == 1


def test_config_dict_round_trip():
    d = TINY.to_dict()
    assert d["channels"] == [16, 32, 32, 48, 48, 64]
    assert CRNNConfig.from_dict(d) == TINY


def test_eval_is_deterministic_and_batch_independent():
    torch.manual_seed(0)
    model = CRNN().eval()
    x = torch.randn(4, 1, 32, 128).clamp(-1, 1)
    with torch.no_grad():
        full = model(x)
        single = model(x[2:3])
    torch.testing.assert_close(full[2:3], single, atol=1e-5, rtol=1e-5)


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    """CTC's reading of a frame path: merge repeats, then drop blanks (0)."""
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return tuple(c for c in merged if c != 0)


def test_ctc_loss_is_the_mean_per_char_of_every_paths_probability():
    """The oracle sums the probability of every one of the 4**6 frame paths that collapses to each label."""
    import itertools
    import math

    torch.manual_seed(0)
    logits = torch.randn(2, 6, 4)  # 6 frames, blank + 3 classes
    labels = [(1, 2, 2), (3,)]  # a repeat needs a blank between: fewer paths
    probs = torch.softmax(logits.double(), dim=-1)
    per_char = []
    for b, label in enumerate(labels):
        p = sum(math.prod(probs[b, t, c].item() for t, c in enumerate(path))
                for path in itertools.product(range(4), repeat=6) if _collapse(path) == label)
        per_char.append(-math.log(p) / len(label))
    loss = ctc_loss(logits, torch.tensor([c for label in labels for c in label]), torch.tensor([3, 1]))
    assert loss.item() == pytest.approx(sum(per_char) / 2, rel=1e-5)
    # uniform frames: every path has probability 4**-6, so the loss counts the paths; (1,) has 6 + 5 + 4 + ... = 21
    uniform = ctc_loss(torch.zeros(1, 6, 4), torch.tensor([1]), torch.tensor([1]))
    assert uniform.item() == pytest.approx(6 * math.log(4) - math.log(21), rel=1e-5)
    # a target that cannot fit (longer than T) gives 0 instead of inf (zero_infinity)
    long = ctc_loss(torch.zeros(1, 4, 23), torch.ones(9, dtype=torch.long), torch.tensor([9]))
    assert long.item() == 0.0


def test_overfits_one_batch_of_real_crops(val_samples):
    torch.manual_seed(0)
    batch = [RealPlates(val_samples[:8])[i] for i in range(8)]
    images, targets, lengths, texts = collate(batch)
    model = CRNN(TINY)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    losses = []
    for _ in range(200):
        loss = ctc_loss(model(images), targets, lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 5.0  # an untrained model: about 9 nats per character
    assert losses[-1] < losses[0] / 20
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(images), dim=-1).numpy()
    preds = [d.text for d in greedy_decode(probs)]
    assert sum(p == t for p, t in zip(preds, texts)) >= 6, (preds, texts)
