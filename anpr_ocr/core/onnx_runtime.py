"""What the reader's and the detector's ONNX Runtime backends share: the backend names, the onnx extra's
modules, and one way to open a CPU session.

    from anpr_ocr.core.onnx_runtime import require_onnx, onnx_export_available, cpu_session
    ort = require_onnx("onnxruntime")        # ImportError naming the onnx extra when it is missing
    session = cpu_session(graph_bytes, threads=1)

onnx and onnxruntime come from the optional extra (`pip install "anpr_ocr[onnx]"`): nothing that reads
plates by default needs them. Exporting a torch model (`torch.onnx.export`) needs onnx as well as torch;
running the graph needs onnxruntime.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .cpu import onnxruntime_available

BACKENDS = ("auto", "torch", "onnx")  # what runs a model: the reader's loader and the detector's say what "auto" is
DEFAULT_BACKEND = "auto"


def check_backend(backend: str) -> None:
    """Raise ValueError unless `backend` is one of `BACKENDS`."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


def require_onnx(module: str) -> ModuleType:
    """Import a module of the onnx extra (e.g. "onnxruntime", "onnxruntime.quantization"); ImportError
    saying how to install the extra when it is missing."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise ImportError(f"the ONNX backend needs {module.split('.')[0]}, from the onnx extra: "
                          'pip install "anpr_ocr[onnx]"') from exc


def onnx_export_available() -> bool:
    """Whether a torch model can be exported here and run in ONNX Runtime: onnxruntime imports
    (`core.cpu.onnxruntime_available`) and so does onnx, which `torch.onnx.export` needs."""
    if not onnxruntime_available():
        return False
    try:
        import onnx  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def quantize_qdq(fp32_onnx: str | Path, int8_onnx: str | Path, input_name: str, batches: Sequence[np.ndarray],
                 method: str = "MinMax", percentile: float | None = None, reduce_range: bool = True,
                 nodes_to_exclude: Sequence[str] = ()) -> Path:
    """ONNX Runtime's static INT8 quantization of a graph, as the reader's and the detector's INT8 graphs are made:
    QDQ, INT8 weights per channel (7 bits with `reduce_range`, which the 16-bit sums of non-VNNI kernels need), UINT8
    activations per tensor whose ranges `method` ("MinMax", "Percentile": `percentile` of the absolute values)
    takes from the graph run on each of `batches` (fed as `input_name`; the histogram calibrators stack the runs,
    so the batches must share a shape). `nodes_to_exclude` stay float. Its calibrators' prints are silenced."""
    quantization = require_onnx("onnxruntime.quantization")
    feed = [{input_name: batch} for batch in batches]

    class Feed:  # the CalibrationDataReader protocol: one input dict a run, then None
        def get_next(self) -> dict | None:
            return feed.pop(0) if feed else None

    int8_onnx = Path(int8_onnx)
    int8_onnx.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        prepared = Path(tmp) / "prepared.onnx"
        quantization.quant_pre_process(str(fp32_onnx), str(prepared), skip_symbolic_shape=True)
        quantization.quantize_static(
            str(prepared), str(int8_onnx), Feed(), quant_format=quantization.QuantFormat.QDQ, per_channel=True,
            reduce_range=reduce_range, activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8, calibrate_method=getattr(quantization.CalibrationMethod, method),
            nodes_to_exclude=list(nodes_to_exclude),
            extra_options={} if percentile is None else {"CalibPercentile": percentile})
    return int8_onnx


def cpu_session(model: str | Path | bytes, threads: int = 1, spin_within_call: bool = True) -> Any:
    """An ONNX Runtime session on the CPU for an ONNX file or its bytes: `threads` intra-op threads, one
    inter-op thread, sequential, every graph optimization, quiet. With `spin_within_call` its workers spin
    between the graph's nodes and stop when the call returns; without, they sleep whenever idle."""
    ort = require_onnx("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Workers left spinning after a call (ONNX Runtime's default) starve the torch ops that follow in the same
    # process (decoding's CTC likelihood) and slowed predict(backend="onnx") at batch 1 several-fold; workers
    # that sleep between nodes wake for each of them. Spinning within the call only is faster than either
    # (docs/experiments.md)
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_within_call else "0")
    options.add_session_config_entry("session.force_spinning_stop", "1" if spin_within_call else "0")
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
