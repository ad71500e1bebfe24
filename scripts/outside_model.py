"""Where `predict`'s time at batch 1 goes, layer by layer, for one checkpoint and backend.

    python scripts/outside_model.py ../shared/data/vkcv-ocr/test --out experiments/outside_model.json

Each test crop is read, one call at a time, by six nested callables: the bare model call on the
preprocessed tensor (as the benchmark times it), preprocessing plus that call (`batch_tensor`), the logits
as numpy (`frame_logits`), the calibrated probabilities (`frame_probs`), those decoded (`read_with`) and
`predict` itself. All six run in one round robin whose order rotates each repetition, so the machine's
load hits them alike; each layer's cost is the difference of two neighbouring medians. The decoders'
own times on the same probabilities (no model call) are timed beside them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from anpr_ocr import predict
from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.core.data import load_samples
from anpr_ocr.core.images import batch_tensor
from anpr_ocr.core.shipped import INT8_WEIGHTS
from anpr_ocr.reader.decode import DECODERS, decode
from anpr_ocr.reader.infer import frame_logits, frame_probs, input_size
from anpr_ocr.reader.loader import Reader, load_reader
from anpr_ocr.reader.predict import DEFAULT_DECODER, read_with
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here


def layers(reader: Reader, weights: Path, backend: str, decoder: str) -> dict:
    """The nested callables, each taking one grey crop and its preprocessed tensor."""
    model, size = reader.model, input_size(reader.model)

    def bare(grey, tensor):
        with torch.inference_mode():
            return model(tensor)

    def prep(grey, tensor):
        with torch.inference_mode():
            return model(batch_tensor([grey], *size))

    return {
        "model call": bare,
        "+ preprocessing": prep,
        "+ logits to numpy": lambda grey, tensor: frame_logits(model, [grey], 1),
        "+ softmax at the temperature": lambda grey, tensor: frame_probs(model, [grey], 1, reader.temperature),
        f"+ {decoder} decoding": lambda grey, tensor: read_with(reader, [grey], decoder, 1),
        "+ predict's checks and readings": lambda grey, tensor: predict(grey, weights=weights, decoder=decoder,
                                                                         backend=backend),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("crops", type=Path, help="a folder of crops in the Nomeroff layout (img/, ann/)")
    parser.add_argument("--weights", type=Path, default=INT8_WEIGHTS)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--decoder", default=DEFAULT_DECODER)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    greys = [s.image for s in load_samples(args.crops)[0]]
    reader = load_reader(args.weights, args.backend)
    calls = layers(reader, args.weights, args.backend, args.decoder)
    tensors = [batch_tensor([g], *input_size(reader.model)) for g in greys]
    for call in calls.values():  # warm up
        for grey, tensor in zip(greys[:5], tensors[:5]):
            call(grey, tensor)
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for rep in range(args.reps):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            for grey, tensor in zip(greys, tensors):
                start = time.perf_counter()
                calls[name](grey, tensor)
                times[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(t) * 1e3) for name, t in times.items()}
    steps = {name: medians[name] - medians[before] for before, name in zip(names, names[1:])}
    probs = frame_probs(reader.model, greys, 64, reader.temperature)
    decoders = {}
    for d in DECODERS:
        t = []
        for _ in range(args.reps):
            for i in range(len(probs)):
                start = time.perf_counter()
                decode(probs[i:i + 1], d, ALPHABET)
                t.append(time.perf_counter() - start)
        decoders[d] = {"median_ms": float(np.median(t) * 1e3), "mean_ms": float(np.mean(t) * 1e3)}
    outside = medians[names[-1]] - medians[names[0]]
    for name in names:
        print(f"{name:34s} {medians[name]:6.3f} ms" + (f"  (+{steps[name]:.3f})" if name in steps else ""))
    print(f"outside the model: {outside:.3f} ms; decoders alone, median / mean ms: "
          + ", ".join(f"{d} {v['median_ms']:.3f} / {v['mean_ms']:.3f}" for d, v in decoders.items()))
    if args.out:
        write_json(args.out, {"weights": str(args.weights), "backend": args.backend, "decoder": args.decoder,
                              "threads": args.threads, "crops": len(greys), "reps": args.reps,
                              "median_ms": medians, "step_ms": steps, "outside_model_ms": outside,
                              "decoders_alone": decoders, "measured": measured_here()})


if __name__ == "__main__":
    main()
