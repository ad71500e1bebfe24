"""Benchmark FP32 eager PyTorch, FX INT8, ONNX Runtime FP32 and ONNX Runtime INT8 in one run.

    python -m anpr_ocr bench --fp32 weights/crnn_ocr_model_best.pth \
        --int8 weights/crnn_ocr_model_int8_fx.pth --data data/test

This module measures and writes the JSON; `report.tables` turns it into tables, `report.plots.plot_benchmark`
into a figure, and `cli` holds the command's arguments.

How it measures (all in this one process, CPU only):
- Inputs are preprocessed once up front; timings cover the model call only (no decoding).
- Latency: batch 1, one plate per call, median and 90th percentile over all calls, in ms.
- Throughput: one batch of 64 plates per call (the samples repeated if fewer), 64 / median call
  time, in plates/s.
- Every backend is warmed up first; then each repetition visits every backend in turn (round
  robin, the order rotated each repetition), so background load and CPU clock drift hit all
  backends alike. Torch threads are set with torch.set_num_threads; ONNX Runtime gets a session
  with intra_op_num_threads per thread count.
- Through `predict`: the same round robin, at the largest thread count, timing `predict` itself
  on grey crops (preprocessing, the model, decoding with confidences, building the readings) for
  the greedy decoder and the default one, for every backend `predict` can run, beside each
  backend's bare model call on the preprocessed crops: the difference of the two batch-1 medians
  is what `predict` adds outside the model.
- The `predict` command: `anpr-ocr predict FOLDER --json` run in this process (stdout captured) on
  a folder of `cli_plates` crop files (the samples' own files, linked again and again), for the
  FP32 and FX INT8 checkpoints, both decoders, with 0 and 2 decoding worker processes: wall time
  from the call to the last line, in plates/s. A small untimed run of each setting goes first, so
  the one-time start of the worker pool's server is not counted.
- Which INT8 model is the default: `predict(weights=INT8)` runs the one `anpr_ocr.core.cpu.int8_backend`
  picks for this CPU; the JSON's meta holds the CPU's features (AVX2 / AVX-512 / VNNI / AMX) and
  that choice ("int8_default"), and the tables mark its rows.
- ONNX Runtime INT8 is the graph the INT8 checkpoint carries (what `predict(backend="onnx")` runs),
  written out as a file; an INT8 checkpoint without one gets a graph quantized here on `calibration`.
- Accuracy: exact match and CER as `predict` reads (`research.evaluate`: its default decoder at the
  checkpoint's temperature; the ONNX models at the FP32 checkpoint's), greedy decoding's exact match beside.
- Size: bytes of the model file (.pth or .onnx), and its SHA-256, which says exactly what was timed.
- Peak memory: for each backend a fresh Python subprocess imports torch, numpy and onnxruntime,
  reads its RSS, resets the kernel's peak-RSS mark (/proc/self/clear_refs), loads the model and
  runs one batch of 64, then reads the peak (VmHWM); the difference is what loading and running
  that model costs on top of the interpreter and libraries (Linux; elsewhere ru_maxrss, cruder).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.files import write_json
from ..core.images import IMAGE_SUFFIXES, INPUT_HEIGHT, INPUT_WIDTH, batch_tensor
from ..reader.loader import Reader, load_reader
from .evaluate import evaluate
from .machine import cpu_name, module_version

BACKENDS = {  # key: label
    "fp32_eager": "FP32 eager (PyTorch)",
    "int8_fx": "INT8 FX (PyTorch)",
    "ort_fp32": "ONNX Runtime FP32",
    "ort_int8": "ONNX Runtime INT8",
}
# predict(weights=INT8, backend="auto") runs one of these, by the CPU (anpr_ocr.core.cpu); the JSON says which
INT8_KINDS = {"torch": "int8_fx", "onnx": "ort_int8"}
BASELINE = "fp32_eager"
THROUGHPUT_BATCH = 64
PREDICT_ARGS = {  # backend key -> (which checkpoint, predict's backend argument)
    "fp32_eager": ("fp32_eager", "torch"),
    "int8_fx": ("int8_fx", "torch"),
    "ort_fp32": ("fp32_eager", "onnx"),
    "ort_int8": ("int8_fx", "onnx"),  # the ONNX Runtime INT8 graph the INT8 checkpoint carries
}


def _loader(kind: str, path: str | Path, threads: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """A callable (B, 1, H, W) -> logits for one backend: checkpoints through the reader's one loader."""
    if kind in ("fp32_eager", "int8_fx"):
        from ..reader.loader import load_any

        return load_any(path)[0]
    from ..reader.onnx_backend import OnnxReader

    return OnnxReader(path, threads=threads)


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    return float(np.median(seconds) * 1e3), float(np.percentile(seconds, 90) * 1e3)


def _accuracy(model: Callable, temperature: float, samples: Sequence) -> dict[str, float]:
    """Exact match and CER as `predict` reads (its decoder at `temperature`), greedy exact match beside them."""
    summary = evaluate(Reader(model, temperature), list(samples), batch_size=THROUGHPUT_BATCH).summary()
    return {k: summary[k] for k in ("exact_match", "cer", "greedy_exact_match")}


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_probe(kind: str, path: str, threads: int, batch: int) -> None:
    """Run in a subprocess: RSS before, and peak RSS while loading the model and running one batch.

    Prints JSON with KiB values. The peak is VmHWM after resetting it with /proc/self/clear_refs
    (Linux); where that is not possible it falls back to ru_maxrss, which may still hold the
    (higher) peak of importing the libraries, so the delta would then read too low.
    """
    torch.set_num_threads(threads)
    try:
        import onnxruntime  # noqa: F401  (imported before the baseline so it is not counted)
    except ImportError:
        pass
    from ..reader import checkpoint, quantize  # noqa: F401

    x = torch.zeros(batch, 1, INPUT_HEIGHT, INPUT_WIDTH)
    before = _status_kib("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS high-water mark
        method = "VmHWM after clear_refs"
    except OSError:
        method = "ru_maxrss"
    model = _loader(kind, path, threads)
    with torch.inference_mode():
        model(x)
    peak = _status_kib("VmHWM") if method.startswith("VmHWM") else None
    if peak is None:
        peak, method = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"
    print(json.dumps({"before_kib": before, "peak_kib": peak, "method": method}))


def peak_memory_mb(kind: str, path: Path, threads: int) -> float | None:
    """What loading and running one backend's model costs in memory, in a fresh process (`memory_probe`);
    None where it cannot be measured."""
    code = (f"from anpr_ocr.research.bench import memory_probe; "
            f"memory_probe({kind!r}, {str(path)!r}, {threads}, {THROUGHPUT_BATCH})")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        probe = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, json.JSONDecodeError, IndexError):
        return None
    return (probe["peak_kib"] - probe["before_kib"]) / 1024


def _cpu_snapshot() -> tuple[float, float, float]:
    """(wall s, busy CPU s of the whole machine, CPU s of this process); busy is 0 where /proc/stat is missing."""
    busy = 0.0
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    except (OSError, ValueError, IndexError):
        pass
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system


def _other_load(start: tuple[float, float, float], end: tuple[float, float, float]) -> float | None:
    """Average number of CPUs kept busy by other processes between two snapshots."""
    wall = end[0] - start[0]
    if wall <= 0 or end[1] == 0.0:
        return None
    return max(0.0, ((end[1] - start[1]) - (end[2] - start[2])) / wall)


def _time_call(model: Callable, x: torch.Tensor) -> float:
    start = time.perf_counter()
    model(x)
    return time.perf_counter() - start


def _round_robin(calls: dict[Any, Callable], singles: Sequence, batch: Any, reps: int, singles_per_rep: int,
                 batches_per_rep: int, warmup: int) -> dict[Any, dict[str, float]]:
    """Time every callable on batch-1 inputs (`singles`, in turn) and on `batch`, after warm-up, in a
    round robin whose order rotates each repetition; per callable its timing row."""
    kinds = list(calls)
    lat: dict[Any, list[float]] = {k: [] for k in kinds}
    thr: dict[Any, list[float]] = {k: [] for k in kinds}
    for k in kinds:
        for _ in range(warmup):
            calls[k](singles[0])
            calls[k](batch)
    for rep in range(reps):
        for k in kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]:
            lat[k] += [_time_call(calls[k], singles[(rep * singles_per_rep + i) % len(singles)])
                       for i in range(singles_per_rep)]
            thr[k] += [_time_call(calls[k], batch) for _ in range(batches_per_rep)]
    rows = {}
    for k in kinds:
        median, p90 = _percentiles(lat[k])
        batch_median = float(np.median(thr[k]))
        rows[k] = {"batch1_median_ms": median, "batch1_p90_ms": p90, "batch64_median_ms": batch_median * 1e3,
                   "batch64_plates_per_s": THROUGHPUT_BATCH / batch_median}
    return rows


def _with_speedups(rows: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The timing rows with their speed-ups over BASELINE's row, at batch 1 and batch 64."""
    base = rows[BASELINE]
    return {k: {**row, "speedup_batch1": base["batch1_median_ms"] / row["batch1_median_ms"],
                "speedup_batch64": row["batch64_plates_per_s"] / base["batch64_plates_per_s"]}
            for k, row in rows.items()}


def _predict_timings(files: dict[str, Path], greys: list[np.ndarray], singles: list[torch.Tensor],
                     x_batch: torch.Tensor, threads: int, reps: int, singles_per_rep: int, batches_per_rep: int,
                     warmup: int) -> dict:
    """`predict` end to end on grey crops, per backend and decoder, all in one round robin (so each
    decoder's rows are measured side by side, like the model timings). The same round robin also
    times each backend's bare model call on the model table's inputs (`singles[i]` is `greys[i]`
    preprocessed, `x_batch` the batch of 64 built the same way), with the very model object
    `predict` runs, so what `predict` adds to a call (resizing, softmax, decoding, confidences) is
    a difference of two medians measured side by side, not across the two tables."""
    from ..reader.loader import load_reader
    from ..reader.predict import DEFAULT_DECODER, predict

    # ort_int8 goes through predict only as the INT8 checkpoint's own graph: one quantized here is no checkpoint's
    own_graph = "int8_fx" in files and _checkpoint_graph(files["int8_fx"]) is not None
    kinds = [k for k in PREDICT_ARGS if k in files and (k != "ort_int8" or own_graph)]
    decoders = list(dict.fromkeys(("greedy", DEFAULT_DECODER)))
    batch = [greys[i % len(greys)] for i in range(THROUGHPUT_BATCH)]
    calls = {(k, d): (lambda x, k=k, d=d: predict(x, weights=files[PREDICT_ARGS[k][0]], decoder=d,
                                                  backend=PREDICT_ARGS[k][1]))
             for d in decoders for k in kinds}
    tensors = {id(g): x for g, x in zip(greys, singles)}  # the round robin hands over these very objects
    tensors[id(batch)] = x_batch
    for k in kinds:
        model = load_reader(files[PREDICT_ARGS[k][0]], PREDICT_ARGS[k][1]).model
        calls[(k, "model")] = lambda x, model=model: _inference(model, tensors[id(x)])
    rows = _round_robin(calls, greys, batch, reps, singles_per_rep, batches_per_rep, warmup)
    per_decoder = {}
    for d in decoders:
        per_decoder[d] = _with_speedups({k: rows[(k, d)] for k in kinds})
        for k in kinds:
            per_decoder[d][k]["adds_batch1_ms"] = (rows[(k, d)]["batch1_median_ms"]
                                                   - rows[(k, "model")]["batch1_median_ms"])
    return {"threads": threads, "decoders": per_decoder, "model_call": {k: rows[(k, "model")] for k in kinds}}


def _inference(model: Callable, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(x)


def _crop_folder(samples: Sequence, folder: Path, plates: int) -> Path:
    """`plates` image files in `folder`: the samples' own files linked in turn (PNG copies of their grey
    images where a sample has no file), so the command decodes what a user's folder holds."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(plates):
        sample = samples[i % len(samples)]
        source = Path(sample.source)
        if source.suffix.lower() in IMAGE_SUFFIXES and source.is_file():
            os.symlink(source.resolve(), folder / f"{i:06d}{source.suffix.lower()}")
        else:
            cv2.imwrite(str(folder / f"{i:06d}.png"), sample.image)
    return folder


def _run_cli(main: Callable[[list[str]], int], argv: list[str]) -> tuple[float, int]:
    """Seconds for one in-process `anpr-ocr` call (`main`: the command's entry point), and the lines it
    printed (stdout captured)."""
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"anpr-ocr {' '.join(argv)} exited with {code}")
    return seconds, len(out.getvalue().splitlines())


def _cli_timings(main: Callable[[list[str]], int], files: dict[str, Path], samples: Sequence, folder: Path,
                 plates: int, workers: Sequence[int] = (0, 2)) -> dict:
    """plates/s of `anpr-ocr predict FOLDER --json` on `plates` crop files, per checkpoint, decoder and
    number of decoding workers."""
    from ..reader.predict import DEFAULT_DECODER

    crops = _crop_folder(samples, folder / "crops", plates)
    warm = _crop_folder(samples, folder / "warm", min(plates, 8))
    rows = []
    for kind in ("fp32_eager", "int8_fx"):
        for decoder in dict.fromkeys(("greedy", DEFAULT_DECODER)):
            for n in workers:
                argv = ["predict", "--json", "--quiet", "--weights", str(files[kind]), "--decoder", decoder,
                        "--workers", str(n)]
                _run_cli(main, [*argv, str(warm)])
                seconds, lines = _run_cli(main, [*argv, str(crops)])
                if lines != plates:
                    raise RuntimeError(f"anpr-ocr predict printed {lines} lines for {plates} crops")
                rows.append({"backend": kind, "decoder": decoder, "workers": n, "seconds": seconds,
                             "plates_per_s": plates / seconds})
    return {"plates": plates, "threads": torch.get_num_threads(), "rows": rows}


def run_benchmark(fp32_path: str | Path, int8_path: str | Path, samples: Sequence,
                  out_json: str | Path | None = "figures/benchmark.json", threads: Sequence[int] = (1, 2),
                  reps: int = 10, singles_per_rep: int = 20, batches_per_rep: int = 2, warmup: int = 3,
                  calibration: list[np.ndarray] | None = None, onnx_dir: str | Path | None = None,
                  memory: bool = True, cli_main: Callable[[list[str]], int] | None = None,
                  cli_plates: int = 1024, cli_workers: Sequence[int] = (0, 2)) -> dict:
    """Measure the four backends on `samples` (labelled crops) and write the result as JSON.

    The ONNX models are exported from `fp32_path` into `onnx_dir` (a temporary folder if None);
    the ONNX INT8 model is calibrated on `calibration` (grey crops from train or val, never the
    samples being scored); without it the ONNX INT8 backend is left out. The `predict` command
    (`cli_main`, the entry point `anpr_ocr.cli.main.main`; None skips it) is timed on `cli_plates` crop
    files with each of `cli_workers`. Returns the result dict (`report.tables.table_rows` and friends
    give compact views; `report.plots.plot_benchmark` draws it).
    """
    fp32_path, int8_path = _checked_paths(fp32_path, int8_path, samples)
    schedule = {"reps": reps, "singles_per_rep": singles_per_rep, "batches_per_rep": batches_per_rep,
                "warmup": warmup}
    old_threads, load_before, started = torch.get_num_threads(), os.getloadavg(), time.time()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(onnx_dir) if onnx_dir is not None else Path(tmp)
        files, onnx_diff = _model_files(fp32_path, int8_path, folder, calibration)
        result: dict[str, Any] = {"backends": _describe_backends(files, samples, max(threads))}
        singles, x_batch = _model_inputs(samples, load_reader(fp32_path).model.input_size)
        timings, other_load = _model_timings(files, singles, x_batch, threads, schedule)
        for kind, timing in timings.items():
            result["backends"][kind]["timing"] = timing
        torch.set_num_threads(max(threads))
        result["predict"] = _predict_timings(files, [s.image for s in samples], singles, x_batch, max(threads),
                                             **schedule)
        if cli_main is not None and cli_plates > 0:
            result["cli"] = _cli_timings(cli_main, files, samples, Path(tmp) / "cli", cli_plates, cli_workers)
        torch.set_num_threads(old_threads)
        timing_seconds = time.time() - started
        for kind in files:
            result["backends"][kind]["peak_rss_mb"] = (
                peak_memory_mb(kind, files[kind], max(threads)) if memory else None)
    result["meta"] = _meta(samples, threads, schedule, onnx_diff, int8_path, calibration, load_before,
                           other_load, timing_seconds)
    if out_json is not None:
        write_json(out_json, result)
    return result


def _checked_paths(fp32_path: str | Path, int8_path: str | Path, samples: Sequence) -> tuple[Path, Path]:
    """The two checkpoints' paths, once both files and at least one sample are known to be there."""
    if not samples:
        raise ValueError("run_benchmark needs at least one sample")
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    for p in (fp32_path, int8_path):
        if not p.is_file():
            raise FileNotFoundError(f"no checkpoint at {p}")
    return fp32_path, int8_path


def _model_files(fp32_path: Path, int8_path: Path, folder: Path,
                 calibration: list[np.ndarray] | None) -> tuple[dict[str, Path], float | None]:
    """The model file of each backend that can run here (ONNX ones written into `folder`), and the largest
    logit difference between the FP32 checkpoint and its ONNX export (None without ONNX Runtime)."""
    from ..reader.checkpoint import load_model

    files = {"fp32_eager": fp32_path, "int8_fx": int8_path}
    try:
        from ..reader.onnx_backend import export_onnx, quantize_onnx

        onnx_fp32 = folder / f"{fp32_path.stem}.onnx"
        onnx_diff = export_onnx(load_model(fp32_path), onnx_fp32)
        files["ort_fp32"] = onnx_fp32
        graph = _checkpoint_graph(int8_path)
        if graph is not None:
            files["ort_int8"] = folder / f"{int8_path.stem}_ort_int8.onnx"
            files["ort_int8"].write_bytes(graph)
        elif calibration:
            files["ort_int8"] = quantize_onnx(onnx_fp32, folder / f"{fp32_path.stem}_int8.onnx", calibration)
    except ImportError as exc:
        print(f"skipping ONNX Runtime backends: {exc}", file=sys.stderr)
        onnx_diff = None
    return files, onnx_diff


def _describe_backends(files: dict[str, Path], samples: Sequence, threads: int) -> dict[str, dict]:
    """Per backend: its label, the file timed (path, bytes, SHA-256) and its accuracy on `samples`; its
    "timing" is filled in later."""
    from ..core.files import file_sha256

    backends = {}
    for kind, path in files.items():
        # the ONNX files are the FP32 checkpoint's model: they read at its temperature
        temperature = load_reader(files["int8_fx" if kind == "int8_fx" else "fp32_eager"]).temperature
        model = _loader(kind, path, threads=threads)
        backends[kind] = {"label": BACKENDS[kind], "file": str(path), "file_bytes": path.stat().st_size,
                          "file_sha256": file_sha256(path), **_accuracy(model, temperature, samples), "timing": {}}
    return backends


def _model_inputs(samples: Sequence, size: tuple[int, int]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The samples preprocessed once at the models' input `size`: one tensor per plate (batch 1, timed every
    plate in turn) and the batch of THROUGHPUT_BATCH plates (the samples repeated if fewer)."""
    x_all = batch_tensor([s.image for s in samples], *size)
    singles = [x[None] for x in x_all]
    return singles, x_all[torch.arange(THROUGHPUT_BATCH) % len(x_all)].contiguous()


def _model_timings(files: dict[str, Path], singles: list[torch.Tensor], x_batch: torch.Tensor,
                   threads: Sequence[int], schedule: dict[str, int]) -> tuple[dict, dict[str, float | None]]:
    """The bare model call's timing rows, {backend: {thread count: row}}, and per thread count the CPUs other
    processes kept busy meanwhile (warning when that is enough to spoil the numbers)."""
    timings: dict[str, dict[str, dict[str, float]]] = {kind: {} for kind in files}
    other_load: dict[str, float | None] = {}
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        models = {kind: _loader(kind, files[kind], n_threads) for kind in files}
        snapshot = _cpu_snapshot()
        with torch.inference_mode():
            rows = _with_speedups(_round_robin(models, singles, x_batch, **schedule))
        other = other_load[str(n_threads)] = _other_load(snapshot, _cpu_snapshot())
        if other is not None and other > 0.2:
            print(f"warning: other processes kept {other:.2f} CPUs busy during the {n_threads}-thread "
                  f"timings; those numbers are not clean", file=sys.stderr)
        for kind in files:
            timings[kind][str(n_threads)] = rows[kind]
        del models
    return timings, other_load


def _meta(samples: Sequence, threads: Sequence[int], schedule: dict[str, int], onnx_diff: float | None,
          int8_path: Path, calibration: list[np.ndarray] | None, load_before: Sequence[float],
          other_load: dict[str, float | None], timing_seconds: float) -> dict[str, Any]:
    """How the run was set up and measured, and the machine it ran on."""
    return {
        "n_samples": len(samples), "threads": list(threads), **schedule, "throughput_batch": THROUGHPUT_BATCH,
        "onnx_max_abs_logit_diff": onnx_diff,
        "ort_int8_source": "int8 checkpoint" if _checkpoint_graph(int8_path) is not None else "quantized here",
        "calibration_images": len(calibration or []),
        **_machine(int8_path),
        "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg()),
        "other_processes_cpus_busy": other_load,  # per thread count, from /proc/stat minus this process
        "timing_seconds": timing_seconds, "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "timing_method": "model call only, preprocessed inputs; batch 1 median/p90 over reps*singles_per_rep "
                         "calls; batch 64 plates/s = 64 / median call; round robin over backends per rep",
        "memory_method": "fresh subprocess per backend, after importing torch/numpy/onnxruntime: peak RSS "
                         "(VmHWM, reset via /proc/self/clear_refs) while loading the model and running one "
                         "batch of 64, minus RSS before loading; max thread count; MB = 2**20 bytes",
    }


def _machine(int8_path: Path) -> dict[str, Any]:
    """The CPU (its features and the INT8 backend `predict` picks on it), the libraries' versions, the platform."""
    from ..core.cpu import cpu_features
    from ..reader.loader import reader_backend

    return {"cpu": cpu_features(), "int8_default": INT8_KINDS[reader_backend(int8_path)],
            "torch": torch.__version__, "onnxruntime": module_version("onnxruntime"),
            "quantized_engine": torch.backends.quantized.engine, "python": platform.python_version(),
            "machine": platform.machine(), "processor": cpu_name(), "cpu_count": os.cpu_count()}


def _checkpoint_graph(int8_path: Path) -> bytes | None:
    from ..reader.quantize import onnx_int8_graph

    return onnx_int8_graph(int8_path)


