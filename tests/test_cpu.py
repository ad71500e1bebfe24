"""anpr_ocr.core.cpu: CPU features from /proc/cpuinfo flags, and the INT8 backend `auto` runs."""

from __future__ import annotations

import pytest

from anpr_ocr.core.cpu import (
    ENV_OVERRIDE,
    cpu_features,
    describe,
    features_from_flags,
    flags_from_cpuinfo,
    int8_backend,
)

EPYC_ZEN3 = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2 vaes vpclmulqdq\n"
XEON_ICX = "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni amx_tile amx_int8\n"
ALDER_LAKE = "flags\t\t: fpu sse2 avx avx2 fma avx_vnni\n"


@pytest.mark.parametrize("cpuinfo, isa, vnni, amx", [
    (EPYC_ZEN3, "AVX2", False, False), (XEON_ICX, "AVX512", True, True), (ALDER_LAKE, "AVX2", True, False)])
def test_features_from_cpuinfo_flags(cpuinfo, isa, vnni, amx):
    features = features_from_flags(flags_from_cpuinfo("processor\t: 0\n" + cpuinfo), "AVX2")
    assert (features["isa"], features["vnni"], features["amx"]) == (isa, vnni, amx)
    assert features["source"] == "cpuinfo"
    assert describe(features).startswith(isa + (", VNNI" if vnni else ", no VNNI"))


def test_without_cpuinfo_torch_capability_is_used_and_vnni_taken_as_absent():
    features = features_from_flags(set(), "AVX512")
    assert (features["isa"], features["avx512"], features["vnni"], features["source"]) == (
        "AVX512", True, False, "torch")


def test_dispatch_variables_set_are_recorded_and_named(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("FBGEMM_ENABLE_INSTRUCTIONS", "AVX2")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    cpu_features.cache_clear()
    try:
        features = cpu_features()
    finally:
        cpu_features.cache_clear()  # the next caller reads the environment as it is then
    assert features["dispatch"] == {"ONEDNN_MAX_CPU_ISA": "AVX2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}
    assert describe(features).endswith("; kernels capped by ONEDNN_MAX_CPU_ISA, FBGEMM_ENABLE_INSTRUCTIONS")
    assert ";" not in describe(features_from_flags(flags_from_cpuinfo(EPYC_ZEN3)))


def test_int8_backend_rule_and_overrides(monkeypatch):
    monkeypatch.delenv(ENV_OVERRIDE, raising=False)
    assert int8_backend(onnx_available=True) == "onnx"
    assert int8_backend(onnx_available=False) == "torch"  # reading works without onnxruntime
    monkeypatch.setenv(ENV_OVERRIDE, "torch")
    assert int8_backend(onnx_available=True) == "torch"
    monkeypatch.setenv(ENV_OVERRIDE, "onnx")
    assert int8_backend(onnx_available=True) == "onnx"
    monkeypatch.setenv(ENV_OVERRIDE, "tflite")
    with pytest.raises(ValueError, match="tflite"):
        int8_backend()
