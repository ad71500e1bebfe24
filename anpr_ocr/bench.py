"""Benchmark FP32 eager PyTorch, FX INT8, ONNX Runtime FP32 and ONNX Runtime INT8 in one run.

    python -m anpr_ocr bench --fp32 weights/crnn_ocr_model_best.pth \
        --int8 weights/crnn_ocr_model_int8_fx.pth --data data/test

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
- Accuracy: exact match and CER of greedy CTC decoding on the given samples.
- Size: bytes of the model file (.pth or .onnx), and its SHA-256, which says exactly what was timed.
- Peak memory: for each backend a fresh Python subprocess imports torch, numpy and onnxruntime,
  reads its RSS, resets the kernel's peak-RSS mark (/proc/self/clear_refs), loads the model and
  runs one batch of 64, then reads the peak (VmHWM); the difference is what loading and running
  that model costs on top of the interpreter and libraries (Linux; elsewhere ru_maxrss, cruder).
"""

from __future__ import annotations

import argparse
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

from . import metrics
from .alphabet import ALPHABET
from .decode import greedy_decode, softmax
from .evaluate import batch_tensor
from .report import markdown_table

BACKENDS = {  # key: label
    "fp32_eager": "FP32 eager (PyTorch)",
    "int8_fx": "INT8 FX (PyTorch)",
    "ort_fp32": "ONNX Runtime FP32",
    "ort_int8": "ONNX Runtime INT8",
}
BASELINE = "fp32_eager"
THROUGHPUT_BATCH = 64
TABLE_HEADER = ("model", "exact match", "CER", "batch-1 ms", "batch-64 plates/s", "speed-up b1 / b64")
PREDICT_HEADER = ("predict(...) with", "decoder", "batch-1 ms", "of which outside the model", "batch-64 plates/s",
                  "speed-up b1 / b64")
PREDICT_ARGS = {  # backend key -> (which checkpoint, predict's backend argument)
    "fp32_eager": ("fp32_eager", "torch"),
    "int8_fx": ("int8_fx", "torch"),
    "ort_fp32": ("fp32_eager", "onnx"),
}


def _loader(kind: str, path: str | Path, threads: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """A callable (B, 1, H, W) -> logits for one backend."""
    if kind == "fp32_eager":
        from .checkpoint import load_model

        return load_model(path)
    if kind == "int8_fx":
        from .quantize import load_quantized

        return load_quantized(path)
    from .onnx_backend import OnnxReader

    return OnnxReader(path, threads=threads)


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    return float(np.median(seconds) * 1e3), float(np.percentile(seconds, 90) * 1e3)


def _accuracy(model: Callable, samples: Sequence, batch_size: int = THROUGHPUT_BATCH) -> dict[str, float]:
    preds = []
    with torch.inference_mode():
        for start in range(0, len(samples), batch_size):
            logits = model(batch_tensor([s.image for s in samples[start:start + batch_size]]))
            preds += [d.text for d in greedy_decode(softmax(logits.float().numpy()), ALPHABET)]
    truths = [s.text for s in samples]
    return {"exact_match": metrics.exact_match(truths, preds), "cer": metrics.cer(truths, preds)}


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _memory_probe(kind: str, path: str, threads: int, batch: int) -> None:
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
    from . import checkpoint, quantize  # noqa: F401

    x = torch.zeros(batch, 1, 32, 128)
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


def _peak_memory_mb(kind: str, path: Path, threads: int) -> float | None:
    code = (f"from anpr_ocr.bench import _memory_probe; "
            f"_memory_probe({kind!r}, {str(path)!r}, {threads}, {THROUGHPUT_BATCH})")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")])
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
    from .predict import DEFAULT_DECODER, _reader, predict

    kinds = [k for k, (ckpt, backend) in PREDICT_ARGS.items()
             if ckpt in files and (backend != "onnx" or "ort_fp32" in files)]
    decoders = list(dict.fromkeys(("greedy", DEFAULT_DECODER)))
    batch = [greys[i % len(greys)] for i in range(THROUGHPUT_BATCH)]
    calls = {(k, d): (lambda x, k=k, d=d: predict(x, weights=files[PREDICT_ARGS[k][0]], decoder=d,
                                                  backend=PREDICT_ARGS[k][1]))
             for d in decoders for k in kinds}
    tensors = {id(g): x for g, x in zip(greys, singles)}  # the round robin hands over these very objects
    tensors[id(batch)] = x_batch
    for k in kinds:
        model = _reader(files[PREDICT_ARGS[k][0]], PREDICT_ARGS[k][1]).model
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


def run_benchmark(fp32_path: str | Path, int8_path: str | Path, samples: Sequence,
                  out_json: str | Path | None = "figures/benchmark.json", threads: Sequence[int] = (1, 2),
                  reps: int = 10, singles_per_rep: int = 20, batches_per_rep: int = 2, warmup: int = 3,
                  calibration: list[np.ndarray] | None = None, onnx_dir: str | Path | None = None,
                  memory: bool = True, plot: str | Path | None = "figures/benchmark.png") -> dict:
    """Measure the four backends on `samples` (labelled crops) and write the result as JSON.

    The ONNX models are exported from `fp32_path` into `onnx_dir` (a temporary folder if None);
    the ONNX INT8 model is calibrated on `calibration` (grey crops from train or val, never the
    samples being scored); without it the ONNX INT8 backend is left out.
    Returns the result dict (see `table_rows` for a compact view).
    """
    from .checkpoint import file_sha256, load_model

    if not samples:
        raise ValueError("run_benchmark needs at least one sample")
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    for p in (fp32_path, int8_path):
        if not p.is_file():
            raise FileNotFoundError(f"no checkpoint at {p}")
    old_threads = torch.get_num_threads()
    load_before = os.getloadavg()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(onnx_dir) if onnx_dir is not None else Path(tmp)
        files = {"fp32_eager": fp32_path, "int8_fx": int8_path}
        try:
            from .onnx_backend import export_onnx, quantize_onnx

            onnx_fp32 = folder / f"{fp32_path.stem}.onnx"
            onnx_diff = export_onnx(load_model(fp32_path), onnx_fp32)
            files["ort_fp32"] = onnx_fp32
            if calibration:
                files["ort_int8"] = quantize_onnx(onnx_fp32, folder / f"{fp32_path.stem}_int8.onnx", calibration)
        except ImportError as exc:
            print(f"skipping ONNX Runtime backends: {exc}", file=sys.stderr)
            onnx_diff = None
        kinds = list(files)

        result: dict[str, Any] = {"backends": {}}
        for kind in kinds:
            model = _loader(kind, files[kind], threads=max(threads))
            result["backends"][kind] = {"label": BACKENDS[kind], "file": str(files[kind]),
                                        "file_bytes": files[kind].stat().st_size,
                                        "file_sha256": file_sha256(files[kind]),
                                        **_accuracy(model, samples), "timing": {}}

        other_load: dict[str, float | None] = {}
        x_all = batch_tensor([s.image for s in samples])
        singles = [x[None] for x in x_all]  # timed one plate a call, every plate in turn
        x_batch = x_all[torch.arange(THROUGHPUT_BATCH) % len(x_all)].contiguous()
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            models = {kind: _loader(kind, files[kind], n_threads) for kind in kinds}
            snapshot = _cpu_snapshot()
            with torch.inference_mode():
                timings = _with_speedups(_round_robin(models, singles, x_batch, reps, singles_per_rep,
                                                      batches_per_rep, warmup))
            other = _other_load(snapshot, _cpu_snapshot())
            other_load[str(n_threads)] = other
            if other is not None and other > 0.2:
                print(f"warning: other processes kept {other:.2f} CPUs busy during the {n_threads}-thread "
                      f"timings; those numbers are not clean", file=sys.stderr)
            for kind in kinds:
                result["backends"][kind]["timing"][str(n_threads)] = timings[kind]
            del models
        torch.set_num_threads(max(threads))
        result["predict"] = _predict_timings(files, [s.image for s in samples], singles, x_batch, max(threads),
                                             reps, singles_per_rep, batches_per_rep, warmup)
        torch.set_num_threads(old_threads)
        timing_seconds = time.time() - started

        for kind in kinds:
            result["backends"][kind]["peak_rss_mb"] = (
                _peak_memory_mb(kind, files[kind], max(threads)) if memory else None)

    result["meta"] = {
        "n_samples": len(samples), "threads": list(threads), "reps": reps, "singles_per_rep": singles_per_rep,
        "batches_per_rep": batches_per_rep, "warmup": warmup, "throughput_batch": THROUGHPUT_BATCH,
        "onnx_max_abs_logit_diff": onnx_diff, "calibration_images": len(calibration or []),
        "torch": torch.__version__, "onnxruntime": _version("onnxruntime"),
        "quantized_engine": torch.backends.quantized.engine, "python": platform.python_version(),
        "machine": platform.machine(), "processor": _cpu_name(), "cpu_count": os.cpu_count(),
        "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg()),
        "other_processes_cpus_busy": other_load,  # per thread count, from /proc/stat minus this process
        "timing_seconds": timing_seconds, "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "timing_method": "model call only, preprocessed inputs; batch 1 median/p90 over reps*singles_per_rep "
                         "calls; batch 64 plates/s = 64 / median call; round robin over backends per rep",
        "memory_method": "fresh subprocess per backend, after importing torch/numpy/onnxruntime: peak RSS "
                         "(VmHWM, reset via /proc/self/clear_refs) while loading the model and running one "
                         "batch of 64, minus RSS before loading; max thread count; MB = 2**20 bytes",
    }
    if out_json is not None:
        out_json = Path(out_json)
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if plot is not None:
        plot_benchmark(result, plot)
    return result


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def table_rows(result: dict, threads: int | None = None) -> list[tuple]:
    """Rows of (model, exact match, CER, batch-1 ms, batch-64 plates/s, speed-up b1 / b64) at `threads`
    (default: the largest thread count measured), formatted as strings; header in TABLE_HEADER."""
    threads = threads or max(result["meta"]["threads"])
    rows = []
    for info in result["backends"].values():
        t = info["timing"][str(threads)]
        rows.append((info["label"], f"{info['exact_match']:.2%}", f"{info['cer']:.2%}",
                     f"{t['batch1_median_ms']:.2f}", f"{t['batch64_plates_per_s']:.0f}",
                     f"{t['speedup_batch1']:.2f}x / {t['speedup_batch64']:.2f}x"))
    return rows


def predict_rows(result: dict) -> list[tuple]:
    """Rows of PREDICT_HEADER: `predict` end to end per backend and decoder (empty for older files)."""
    rows = []
    for decoder, per_kind in result.get("predict", {}).get("decoders", {}).items():
        for kind, t in per_kind.items():
            label = BACKENDS[kind] + (" via backend='onnx'" if PREDICT_ARGS[kind][1] == "onnx" else "")
            adds = f"{t['adds_batch1_ms']:.2f}" if "adds_batch1_ms" in t else "—"  # older files lack it
            rows.append((label, decoder, f"{t['batch1_median_ms']:.2f}", adds, f"{t['batch64_plates_per_s']:.0f}",
                         f"{t['speedup_batch1']:.2f}x / {t['speedup_batch64']:.2f}x"))
    return rows


def machine_row(result: dict) -> tuple:
    """(CPU, date, FX INT8 batch-1 ms, batch-64 plates/s, its speed-up over FP32 for the model call and through
    `predict` with each decoder, b1 / b64) at the largest thread count: one machine's line in the README."""
    threads = str(max(result["meta"]["threads"]))
    t = result["backends"]["int8_fx"]["timing"][threads]
    decoders = result.get("predict", {}).get("decoders", {})
    through = [f"{d['int8_fx']['speedup_batch1']:.2f}x / {d['int8_fx']['speedup_batch64']:.2f}x"
               if "int8_fx" in (d := decoders.get(name, {})) else "—" for name in ("greedy", "format")]
    return (result["meta"].get("processor", "?"), result["meta"].get("date_utc", "?"),
            f"{t['batch1_median_ms']:.2f}", f"{t['batch64_plates_per_s']:.0f}",
            f"{t['speedup_batch1']:.2f}x / {t['speedup_batch64']:.2f}x", *through)


def format_predict_table(result: dict) -> str:
    """A Markdown table of `predict_rows`, or "" when the result has none."""
    rows = predict_rows(result)
    if not rows:
        return ""
    return f"through predict, {result['predict']['threads']} thread(s)\n" + markdown_table(PREDICT_HEADER, rows)


def format_table(result: dict, threads: int | None = None) -> str:
    """A Markdown table of `table_rows`."""
    threads = threads or max(result["meta"]["threads"])
    return (f"{threads} thread(s), {result['meta']['n_samples']} samples, model call only\n"
            + markdown_table(TABLE_HEADER, table_rows(result, threads)))


def plot_benchmark(result: dict, path: str | Path = "figures/benchmark.png") -> Path:
    """Bar charts of batch-1 latency (median, p90 whisker) and batch-64 throughput per thread count."""
    import matplotlib.pyplot as plt

    kinds = list(result["backends"])
    threads = result["meta"]["threads"]
    width = 0.8 / len(threads)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for j, n in enumerate(threads):
        xs = np.arange(len(kinds)) + (j - (len(threads) - 1) / 2) * width
        med = [result["backends"][k]["timing"][str(n)]["batch1_median_ms"] for k in kinds]
        p90 = [result["backends"][k]["timing"][str(n)]["batch1_p90_ms"] for k in kinds]
        tput = [result["backends"][k]["timing"][str(n)]["batch64_plates_per_s"] for k in kinds]
        axes[0].bar(xs, med, width, yerr=[np.zeros(len(med)), np.subtract(p90, med)], capsize=3,
                    label=f"{n} thread{'s' if n > 1 else ''}")
        axes[1].bar(xs, tput, width, label=f"{n} thread{'s' if n > 1 else ''}")
    labels = [f"{result['backends'][k]['label']}\nEM {result['backends'][k]['exact_match']:.1%}" for k in kinds]
    for ax, title in zip(axes, ("batch 1 latency per plate, ms (median, p90 whisker)",
                                f"batch {THROUGHPUT_BATCH} throughput, plates/s")):
        ax.set_xticks(np.arange(len(kinds)), labels, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"CRNN plate OCR on {result['meta']['processor']} ({result['meta']['n_samples']} plates)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _default_data() -> Path:
    root = os.environ.get("ANPR_DATA")
    return Path(root) / "test" if root else Path("data/test")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m anpr_ocr bench`: run the benchmark, write JSON and PNG, print the table."""
    from .checkpoint import CheckpointError
    from .data import load_samples
    from .predict import DEFAULT_WEIGHTS

    parser = argparse.ArgumentParser(prog="anpr_ocr bench", description=__doc__.split("\n")[0])
    parser.add_argument("--fp32", type=Path, default=DEFAULT_WEIGHTS, help="FP32 checkpoint")
    parser.add_argument("--int8", type=Path, default=DEFAULT_WEIGHTS.with_name("crnn_ocr_model_int8_fx.pth"),
                        help="FX INT8 checkpoint (anpr_ocr.quantize.save_quantized)")
    parser.add_argument("--data", type=Path, default=_default_data(),
                        help="labelled split to score and time on (default $ANPR_DATA/test or data/test)")
    parser.add_argument("--calib", type=Path, default=None,
                        help="split to calibrate ONNX INT8 on (default: 'val' beside --data)")
    parser.add_argument("--out", type=Path, default=Path("figures/benchmark.json"), help="JSON output")
    parser.add_argument("--plot", type=Path, default=None, help="PNG output (default: --out with .png)")
    parser.add_argument("--onnx-dir", type=Path, default=None, help="keep the ONNX files here (default: temp)")
    parser.add_argument("--reps", type=int, default=10, help="round-robin repetitions (default 10)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    args = parser.parse_args(argv)
    try:
        for name in ("fp32", "int8"):
            if not getattr(args, name).is_file():
                raise FileNotFoundError(f"--{name}: no checkpoint at {getattr(args, name)}")
        if not args.data.exists():
            raise FileNotFoundError(f"--data: no dataset at {args.data}")
        calib_path = args.calib or args.data.parent / "val"
        if args.calib is not None and not calib_path.exists():
            raise FileNotFoundError(f"--calib: no dataset at {calib_path}")
        if args.reps < 1 or any(t < 1 for t in args.threads):
            raise ValueError("--reps and --threads must be at least 1")
        samples, report = load_samples(args.data)
        if not samples:
            raise ValueError(f"--data: no usable samples in {args.data} ({report})")
        calibration = None
        if calib_path.exists() and calib_path.resolve() != args.data.resolve():
            calibration = [s.image for s in load_samples(calib_path)[0]] or None
        if calibration is None:
            print(f"no calibration split at {calib_path}: ONNX Runtime INT8 is skipped", file=sys.stderr)
        result = run_benchmark(args.fp32, args.int8, samples, out_json=args.out, threads=args.threads,
                               reps=args.reps, calibration=calibration, onnx_dir=args.onnx_dir,
                               memory=not args.no_memory, plot=args.plot or args.out.with_suffix(".png"))
    except (FileNotFoundError, CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for n in result["meta"]["threads"]:
        print(format_table(result, n))
        print()
    print(format_predict_table(result))
    print(f"wrote {args.out} and {args.plot or args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
