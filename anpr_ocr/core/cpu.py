"""What the CPU can do for INT8, and which INT8 backend `predict(backend="auto")` runs because of it.

    from anpr_ocr.core.cpu import cpu_features, int8_backend
    cpu_features()     # {"isa": "AVX2", "avx2": True, "avx512": False, "vnni": False, "amx": False, ...}
    int8_backend()     # "onnx" on a CPU without VNNI when onnxruntime is installed, else "torch"

Why it matters: INT8 matrix products multiply UINT8 by INT8 bytes and add pairs. With VNNI
(AVX512-VNNI or AVX-VNNI) one instruction does it with 32-bit sums; without it (AVX2 only, e.g. the
AMD EPYCs up to Zen 3) the kernels go through 16-bit sums, and PyTorch's FX INT8 model, whose
LSTM stays float, then gains much less over FP32 through `predict`. ONNX Runtime's
INT8 graph, whose LSTM kernel costs less per call, is the faster INT8 model there; on a VNNI CPU the
FX model already gains what INT8 was meant to, so it stays (the measurements: docs/experiments.md,
"INT8 on CPUs without VNNI"). The rule is written once, in
`INT8_BACKEND_BY_VNNI`, and `predict(backend="torch" | "onnx")` overrides it.

The flags come from /proc/cpuinfo (Linux); elsewhere from torch's dispatch level
(`torch.backends.cpu.get_cpu_capability()`: "AVX512" says nothing about VNNI, so VNNI is then unknown
and taken as absent). The environment variable ANPR_OCR_INT8_BACKEND ("torch" or "onnx") overrides
the choice for a whole process.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

INT8_BACKEND_BY_VNNI = {True: "torch", False: "onnx"}  # measured: docs/experiments.md, 2026-12-03
ENV_OVERRIDE = "ANPR_OCR_INT8_BACKEND"


def flags_from_cpuinfo(cpuinfo: str) -> set[str]:
    """The CPU flags named on the first "flags" line of /proc/cpuinfo's text (empty when there is none)."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def features_from_flags(flags: set[str], capability: str | None = None) -> dict:
    """The INT8-relevant features of a CPU from its /proc/cpuinfo flags (and torch's dispatch level)."""
    avx512 = "avx512f" in flags or (not flags and capability == "AVX512")
    vnni = "avx512_vnni" in flags or "avx_vnni" in flags
    amx = "amx_int8" in flags
    isa = "AVX512" if avx512 else "AVX2" if "avx2" in flags or capability == "AVX2" else capability or "unknown"
    return {"isa": isa, "avx2": "avx2" in flags or capability in ("AVX2", "AVX512"), "avx512": avx512,
            "vnni": vnni, "amx": amx, "torch_capability": capability, "source": "cpuinfo" if flags else "torch"}


@functools.lru_cache(maxsize=1)
def cpu_features() -> dict:
    """This machine's INT8-relevant CPU features (read once per process)."""
    try:
        flags = flags_from_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        flags = set()
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError):
        capability = None
    return features_from_flags(flags, capability)


def describe(features: dict) -> str:
    """One line for tables: e.g. "AVX2, no VNNI" or "AVX512, VNNI, AMX"."""
    parts = [features["isa"], "VNNI" if features["vnni"] else "no VNNI"]
    return ", ".join(parts + (["AMX"] if features.get("amx") else []))


def onnxruntime_available() -> bool:
    """Whether onnxruntime imports here. Imported, not just looked up: `int8_backend` asks only when it
    would pick ONNX Runtime, which then runs, and a broken install must fall back to FX, not fail."""
    try:
        import onnxruntime  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def int8_backend(features: dict | None = None, onnx_available: bool | None = None) -> str:
    """"torch" (FX INT8) or "onnx" (ONNX Runtime INT8) for this CPU: by `INT8_BACKEND_BY_VNNI`, "torch"
    when onnxruntime is not installed, and $ANPR_OCR_INT8_BACKEND over both."""
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        if override not in ("torch", "onnx"):
            raise ValueError(f"{ENV_OVERRIDE} must be 'torch' or 'onnx', got {override!r}")
        return override
    features = cpu_features() if features is None else features
    choice = INT8_BACKEND_BY_VNNI[bool(features["vnni"])]
    if choice == "onnx" and not (onnxruntime_available() if onnx_available is None else onnx_available):
        return "torch"
    return choice
