"""What the CPU can do for INT8 (recorded beside every speed figure), and the INT8 backend `auto` runs.

    from anpr_ocr.core.cpu import cpu_features, int8_backend
    cpu_features()     # {"isa": "AVX2", "avx2": True, "avx512": False, "vnni": False, "amx": False, ...}
    int8_backend()     # "onnx" where onnxruntime is installed, else "torch"

Why the features matter: INT8 matrix products multiply UINT8 by INT8 bytes and add pairs. With VNNI
(AVX512-VNNI or AVX-VNNI) one instruction does it with 32-bit sums; without it (AVX2 only, e.g. the
AMD EPYCs up to Zen 3) the kernels go through 16-bit sums and gain less, so a speed figure means
little without them. Which INT8 model runs: ONNX Runtime's INT8 graph (its LSTM in INT8 too) is the
faster one through `predict` on all three CPUs measured, AVX2-only and with VNNI, while PyTorch's FX
model keeps its LSTM float (docs/experiments.md, "The INT8 backend on VNNI CPUs"). So `auto` runs
ONNX Runtime INT8 wherever onnxruntime imports and FX INT8 elsewhere; `predict(backend="torch" |
"onnx")`, or the environment variable ANPR_OCR_INT8_BACKEND for a whole process, overrides it.

The flags come from /proc/cpuinfo (Linux); elsewhere from torch's dispatch level
(`torch.backends.cpu.get_cpu_capability()`: "AVX512" says nothing about VNNI, so VNNI is then unknown
and taken as absent). The flags say what the CPU can do, not what the libraries were told to use: the
environment variables of DISPATCH_VARIABLES cap their kernels (`scripts/avx2_dispatch.py` sets them to run
as an AVX2-only CPU would), so those that are set are recorded too ("dispatch"), and `describe` names them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

ENV_OVERRIDE = "ANPR_OCR_INT8_BACKEND"
DISPATCH_VARIABLES = (  # the libraries' own switches capping the instructions their kernels use
    "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "FBGEMM_ENABLE_INSTRUCTIONS", "MKL_ENABLE_INSTRUCTIONS",
    "NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE", "OPENCV_CPU_DISABLE", "GLIBC_TUNABLES",
)


def flags_from_cpuinfo(cpuinfo: str) -> set[str]:
    """The CPU flags named on the first "flags" line of /proc/cpuinfo's text (empty when there is none)."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def features_from_flags(flags: set[str], capability: str | None = None, dispatch: dict | None = None) -> dict:
    """The INT8-relevant features of a CPU from its /proc/cpuinfo flags (and torch's dispatch level), with the
    `dispatch` variables set (name: value; module docstring)."""
    avx512 = "avx512f" in flags or (not flags and capability == "AVX512")
    vnni = "avx512_vnni" in flags or "avx_vnni" in flags
    amx = "amx_int8" in flags
    isa = "AVX512" if avx512 else "AVX2" if "avx2" in flags or capability == "AVX2" else capability or "unknown"
    return {"isa": isa, "avx2": "avx2" in flags or capability in ("AVX2", "AVX512"), "avx512": avx512,
            "vnni": vnni, "amx": amx, "torch_capability": capability, "source": "cpuinfo" if flags else "torch",
            "dispatch": dict(dispatch or {})}


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
    dispatch = {name: os.environ[name] for name in DISPATCH_VARIABLES if os.environ.get(name)}
    return features_from_flags(flags, capability, dispatch)


def describe(features: dict) -> str:
    """One line for tables: e.g. "AVX2, no VNNI" or "AVX512, VNNI, AMX", and the dispatch variables set
    ("AVX512, VNNI; kernels capped by ATEN_CPU_CAPABILITY, ...")."""
    parts = [features["isa"], "VNNI" if features["vnni"] else "no VNNI"]
    line = ", ".join(parts + (["AMX"] if features.get("amx") else []))
    capped = features.get("dispatch")
    return f"{line}; kernels capped by {', '.join(capped)}" if capped else line


def onnxruntime_available() -> bool:
    """Whether onnxruntime imports here. Imported, not just looked up: `int8_backend` then runs ONNX
    Runtime, and a broken install must fall back to FX, not fail."""
    try:
        import onnxruntime  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def int8_backend(onnx_available: bool | None = None) -> str:
    """"onnx" (ONNX Runtime INT8) where onnxruntime imports, else "torch" (FX INT8); $ANPR_OCR_INT8_BACKEND
    over both."""
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        if override not in ("torch", "onnx"):
            raise ValueError(f"{ENV_OVERRIDE} must be 'torch' or 'onnx', got {override!r}")
        return override
    return "onnx" if (onnxruntime_available() if onnx_available is None else onnx_available) else "torch"
