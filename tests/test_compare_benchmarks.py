"""scripts/compare_benchmarks.py: the figures two benchmark records share, and their ratio, against hand-made runs."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_benchmarks.py"
spec = importlib.util.spec_from_file_location("compare_benchmarks", SCRIPT)
compare_benchmarks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_benchmarks)


def _bench(int8_b1: float, int8_b64: float, outside_ms: float, with_model_calls: bool = True) -> dict:
    """A benchmark record with one decoder and FP32 eager plus one INT8 backend."""
    row = {"speedup_batch1": int8_b1, "speedup_batch64": int8_b64, "adds_batch1_ms": outside_ms}
    base = {"speedup_batch1": 1.0, "speedup_batch64": 1.0, "adds_batch1_ms": 0.5}
    timing = {"2": {"speedup_batch1": 3.0, "speedup_batch64": 2.5}} if with_model_calls else {}
    return {"predict": {"decoders": {"format": {"fp32_eager": base, "ort_int8": row}}},
            "backends": {"fp32_eager": {"timing": {"2": {"speedup_batch1": 1.0, "speedup_batch64": 1.0}}},
                         "ort_int8": {"timing": timing}}}


def test_ratios_of_the_figures_both_runs_have(tmp_path):
    rows = {r["figure"]: r for r in compare_benchmarks.compare(_bench(2.0, 2.5, 0.4),
                                                               _bench(3.0, 2.0, 0.2, with_model_calls=False))}
    assert rows["predict format ort_int8 batch 1"]["other_over_reference"] == pytest.approx(1.5)
    assert rows["predict format ort_int8 batch 64"]["other_over_reference"] == pytest.approx(0.8)
    assert rows["predict format ort_int8 outside the model, batch 1 (ms)"]["other_over_reference"] == pytest.approx(0.5)
    assert rows["predict format fp32_eager outside the model, batch 1 (ms)"]["other_over_reference"] == 1.0
    assert "predict format fp32_eager batch 1" not in rows  # FP32 eager is the baseline, 1.0 by definition
    assert not any(k.startswith("model call") for k in rows)  # the other run has none
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_bench(2.0, 2.5, 0.4)))
    assert compare_benchmarks.read_bench(str(path)) == _bench(2.0, 2.5, 0.4)
