import json
from pathlib import Path

import pytest

from anpr_ocr.checkpoint import load_model
from anpr_ocr.proxies import PANELS, count_keys, proxy_scores

REPO = Path(__file__).resolve().parents[1]
# scripts/judge.py's output for the committed weights, written before the proxies moved into the package
JUDGED = REPO / "experiments" / "committed_judge.json"


def test_count_keys_follow_the_panels():
    assert count_keys() == ["tilt9", "tilt12", "tilt15", "left9", "left11", "left13", "right8", "right10"]
    assert set(PANELS) == {"tilt", "left", "right"}


def test_proxy_scores_of_the_committed_model_are_the_judged_ones(val_samples):
    judged = json.loads(JUDGED.read_text())
    model = load_model(REPO / judged["checkpoint"])
    scores = proxy_scores(model, val_samples)
    assert list(scores) == count_keys() + ["degraded"]
    assert scores == {key: judged[key] for key in scores}
    assert scores["degraded"][2] == 4 * len(val_samples)


def test_proxy_scores_need_samples():
    with pytest.raises(ValueError, match="at least one sample"):
        proxy_scores(None, [])
