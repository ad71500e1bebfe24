"""Other views of an unsure crop (`reader.views`): which readings are sure, the views themselves against numpy,
and `predict` with and without its second look, against the consensus of the three views decoded independently."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from anpr_ocr.cli.main import main
from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.core.data import load_samples
from anpr_ocr.reader.decode import Decoded, consensus_decode, decode
from anpr_ocr.reader.infer import frame_probs
from anpr_ocr.reader.loader import DEFAULT_WEIGHTS, load_reader
from anpr_ocr.reader.predict import predict
from anpr_ocr.reader.views import VIEW_MARGINS, as_one, crop_views, sure

pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason=f"no committed weights at {DEFAULT_WEIGHTS}")


@pytest.fixture(scope="module")
def test_crops(data_root):
    return load_samples(data_root / "test")[0]


def test_a_reading_is_sure_when_valid_and_confident_enough():
    assert sure(Decoded("A123BC77", 0.95, ()), 0.9) and sure(Decoded("A123BC77", 0.9, ()), 0.9)
    assert not sure(Decoded("A123BC77", 0.89, ()), 0.9)
    assert not sure(Decoded("A123BC", 0.99, ()), 0.9)  # no region code: not a plate
    assert not sure(Decoded("A123BC77", 1.0, ()), 1.01)  # above 1 nothing is sure


def _oracle_views(grey: np.ndarray) -> list[np.ndarray]:
    h, w = grey.shape
    dx, dy = round(w * VIEW_MARGINS[0]), round(h * VIEW_MARGINS[1])
    return [grey[dy:h - dy, dx:w - dx], np.pad(grey, ((dy, dy), (dx, dx)), mode="edge")]


def test_the_views_are_the_crop_trimmed_and_the_crop_padded_with_its_edge_pixels(test_crops):
    for sample in test_crops[:10]:
        got, want = crop_views(sample.image), _oracle_views(sample.image)
        assert len(got) == 2 and all(g.dtype == np.uint8 and g.flags.c_contiguous for g in got)
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
    tiny = np.arange(6, dtype=np.uint8).reshape(2, 3)  # 10% of 2 rows rounds to 0; 5% of 3 columns too
    assert all(np.array_equal(v, tiny) for v in crop_views(tiny))
    flat = np.full((1, 40), 7, np.uint8)  # two columns a side would be trimmed, none of its one row
    trimmed, padded = crop_views(flat)
    assert trimmed.shape == (1, 36) and padded.shape == (1, 44) and (padded == 7).all()


def test_predict_rereads_exactly_the_unsure_crops_as_the_consensus_of_their_three_views(test_crops):
    """The oracle: each crop read once; a sure reading stands, an unsure one is `consensus_decode` (which decodes
    every view itself) over the crop and its views made with numpy."""
    weights = DEFAULT_WEIGHTS
    reader = load_reader(weights, "torch")
    greys = [s.image for s in test_crops]
    once = predict(greys, weights=weights, backend="torch", reread_unsure=False)
    again = predict(greys, weights=weights, backend="torch")
    changed = 0
    for grey, first, got in zip(greys, once, again):
        if sure(Decoded(first.text, first.confidence, first.char_confidences)):
            assert got == first
            continue
        probs = frame_probs(reader.model, [grey, *_oracle_views(grey)], 3, reader.temperature)
        want = consensus_decode(probs, 3, "format")[0]
        assert (got.text, got.char_confidences) == (want.text, pytest.approx(want.char_confidences, abs=1e-6))
        assert got.confidence == pytest.approx(want.confidence, abs=1e-6)  # batches of other sizes: float noise
        changed += got.text != first.text
    assert changed >= 1  # the test crops hold an unsure crop that its views read otherwise


def test_as_one_leaves_the_sure_readings_and_copies():
    probs = np.full((2, 4, len(ALPHABET) + 1), 1 / (len(ALPHABET) + 1))
    decoded = decode(probs, "format")
    out = as_one(probs, decoded, [], probs[:0], "format")
    assert out == decoded and out is not decoded
    with pytest.raises(ValueError, match="other views"):  # 3 views for 2 unsure items: not as many each
        as_one(probs, decoded, [0, 1], np.concatenate([probs, probs[:1]]), "format")


def test_reread_unsure_must_be_a_bool(test_crops):
    with pytest.raises(ValueError, match="reread_unsure"):
        predict(test_crops[0].image, reread_unsure="no")


def test_cli_read_once_reads_each_crop_once(data_root, capsys):
    split = data_root / "test"
    assert main(["eval", str(split), "--json", "--read-once"]) == 0
    once = json.loads(capsys.readouterr().out)
    assert main(["eval", str(split), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (once["reread_unsure"], again["reread_unsure"]) == (False, True)
    samples = load_samples(split)[0]
    for scores, reread in ((once, False), (again, True)):
        texts = [r.text for r in predict([s.image for s in samples], reread_unsure=reread)]
        assert scores["exact_match"] == sum(s.text == p for s, p in zip(samples, texts)) / len(samples)
    crop = sorted((split / "img").iterdir())[0]
    assert main(["predict", str(crop), "--json", "--read-once"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == predict(Path(crop), reread_unsure=False).text
