from pathlib import Path

import pytest
import torch

from anpr_ocr.core.data import Sample, load_splits
from anpr_ocr.reader.checkpoint import load_model
from anpr_ocr.research.audit import contradicted_labels
from anpr_ocr.research.evaluate import evaluate

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "crnn_ocr_model_best.pth"


class Silent(torch.nn.Module):
    """A model that reads nothing: every frame is the CTC blank."""

    def forward(self, x):
        logits = torch.zeros(x.shape[0], 32, 23)
        logits[..., 0] = 10.0
        return logits


@pytest.fixture(scope="module")
def read_right(data_root):
    splits, _ = load_splits(data_root, ("val",))
    model = load_model(WEIGHTS).eval()
    val = splits["val"][:12]
    ev = evaluate(WEIGHTS, val)
    return model, [s for s, p in zip(val, ev.greedy_preds) if p == s.text][:6]  # the audit reads greedily


def test_flags_the_labels_the_models_contradict(read_right):
    model, samples = read_right
    assert len(samples) == 6
    wrong = list(samples)
    wrong[2] = Sample(samples[2].image, "X000XX00", samples[2].source)  # a plate, but not this one
    wrong[4] = Sample(samples[4].image, "not a plate", samples[4].source)
    suspects = contradicted_labels([model, model], wrong)
    assert [(s.index, s.label, s.reading) for s in suspects] == [
        (2, "X000XX00", samples[2].text), (4, "not a plate", samples[4].text)]
    assert suspects[0].source == samples[2].source


def test_models_that_disagree_flag_nothing(read_right):
    model, samples = read_right
    wrong = [Sample(s.image, "X000XX00", s.source) for s in samples]
    assert len(contradicted_labels([model], wrong)) == 6
    assert contradicted_labels([model, Silent()], wrong) == []  # "" is no plate, and the two disagree
    with pytest.raises(ValueError):
        contradicted_labels([], wrong)
