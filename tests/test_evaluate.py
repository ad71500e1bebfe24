"""evaluate(): what it scores is what `predict` reads, checked against predict itself and hand-decoded logits."""

from __future__ import annotations

from pathlib import Path

import pytest

from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.core.data import load_samples
from anpr_ocr.reader.checkpoint import load_model, save_checkpoint
from anpr_ocr.reader.decode import greedy_decode, softmax
from anpr_ocr.reader.infer import frame_logits
from anpr_ocr.reader.loader import Reader
from anpr_ocr.reader.predict import predict
from anpr_ocr.research.evaluate import evaluate

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "crnn_ocr_model_best.pth"
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"no committed weights at {WEIGHTS}")


@pytest.fixture(scope="module")
def test_split(data_root):
    samples, _ = load_samples(data_root / "test")
    return samples


def test_evaluate_scores_what_predict_reads(test_split):
    ev = evaluate(WEIGHTS, test_split)
    readings = predict([s.image for s in test_split], weights=WEIGHTS)
    assert ev.preds == [r.text for r in readings]
    assert ev.confidences == pytest.approx([r.confidence for r in readings], rel=1e-6)
    right = sum(r.text == s.text for r, s in zip(readings, test_split))
    assert ev.exact_match == right / len(test_split)
    assert ev.sources == [s.source for s in test_split] and ev.truths == [s.text for s in test_split]
    assert ev.mistakes() == [i for i, (r, s) in enumerate(zip(readings, test_split)) if r.text != s.text]


def test_greedy_column_is_greedy_decoding_of_the_same_outputs(test_split):
    ev = evaluate(WEIGHTS, test_split)
    logits = frame_logits(load_model(WEIGHTS), [s.image for s in test_split])
    greedy = [d.text for d in greedy_decode(softmax(logits), ALPHABET)]  # argmax: any temperature reads alike
    assert ev.greedy_preds == greedy
    assert ev.greedy_exact_match == sum(g == s.text for g, s in zip(greedy, test_split)) / len(test_split)
    # on the committed model the two decoders disagree on some test crops, so the columns are two figures
    assert ev.greedy_preds != ev.preds
    assert ev.summary() == {"n": len(test_split), "decoder": "format", "reread_unsure": True,
                            "exact_match": ev.exact_match, "cer": ev.cer, "greedy_exact_match": ev.greedy_exact_match}


def test_a_model_in_memory_reads_at_the_temperature_it_comes_with(test_split, tmp_path):
    """A Reader at temperature T reads as predict reads a checkpoint that stores T."""
    model = load_model(WEIGHTS)
    crops = test_split[:24]
    for temperature in (0.5, 3.0):
        path = tmp_path / f"t{temperature}.pth"
        save_checkpoint(model, path, temperature=temperature)
        ev = evaluate(Reader(model, temperature), crops)
        readings = predict([s.image for s in crops], weights=path, backend="torch")  # the model above
        assert ev.preds == [r.text for r in readings]
        assert ev.confidences == pytest.approx([r.confidence for r in readings], rel=1e-6)


def test_greedy_decoder_reads_once(test_split):
    ev = evaluate(WEIGHTS, test_split[:16], decoder="greedy")
    assert ev.preds == ev.greedy_preds == [r.text for r in predict([s.image for s in test_split[:16]],
                                                                    weights=WEIGHTS, decoder="greedy")]
    assert ev.summary()["decoder"] == "greedy"
