import pytest

from anpr_ocr import predict
from anpr_ocr.core import metrics
from anpr_ocr.core.shipped import FP32_WEIGHTS
from anpr_ocr.reader.checkpoint import load_model
from anpr_ocr.research.proxies import PANELS, count_keys, proxy_scores
from anpr_ocr.train.augment import apply, train_augmentation


def test_count_keys_follow_the_panels():
    assert count_keys() == ["tilt9", "tilt12", "tilt15", "left9", "left11", "left13", "right8", "right10"]
    assert set(PANELS) == {"tilt", "left", "right"}


def test_proxy_scores_count_what_predict_reads_of_each_degraded_crop(val_samples):
    """The oracle: each crop degraded on its own and read by `predict` (greedy), one image at a time."""
    samples = val_samples[:30]
    scores = proxy_scores(load_model(FP32_WEIGHTS), samples)
    assert list(scores) == count_keys() + ["degraded"]

    def read(images):
        return [predict(image, weights=FP32_WEIGHTS, decoder="greedy", reread_unsure=False).text for image in images]

    truths = [s.text for s in samples]
    for prefix, (degrade, strengths) in PANELS.items():
        for strength in strengths:
            got = read([degrade(s.image, strength) for s in samples])
            assert scores[f"{prefix}{strength}"] == sum(g == t for g, t in zip(got, truths)), (prefix, strength)
    augmentation = train_augmentation(seed=123)
    degraded = [apply(augmentation, s.image) for _ in range(4) for s in samples]
    got, want = read(degraded), truths * 4
    assert scores["degraded"] == pytest.approx([metrics.exact_match(want, got), metrics.cer(want, got), 120])


def test_proxy_scores_need_samples():
    with pytest.raises(ValueError, match="at least one sample"):
        proxy_scores(None, [])
