"""Quantization-aware fine-tuning of the committed detector, and what its ONNX Runtime INT8 graph reads.

    ANPR_FONT=... ANPR_TEXTS=... python scripts/detector_qat.py ../shared/data/vkcv-photos --epochs 20 --lr 1e-4 \
        --out experiments/detector_qat.json

A research look, not a pipeline step: whether fine-tuning aware of quantization gives a better INT8 detector than
quantizing the trained one (`detector.quantize`, what the committed checkpoint carries); on fresh winter renders it
did not (docs/experiments.md). Here the fused detector is fine-tuned on the training photos as it trains
(`train.scenes.PlateScenes`, the committed recipe's crops and pasted renders, focal and offset losses) with every
conv of the graph ONNX Runtime runs fake-quantized as its INT8 graph quantizes it: each conv's input per tensor in
8 bits (asymmetric, moving-average range), its weights per output channel in 7 (symmetric). The observers freeze
for the last two epochs; the learning rate falls along a half cosine. The corner head, which runs in float at the
heatmap's peaks, is left as it is. Then the committed and the tuned detectors are exported in FP32 as ONNX Runtime
runs a checkpoint without an INT8 graph (the stem padded to this CPU's block), each also quantized by ONNX Runtime
(QDQ, MinMax on the first 64 training photos of 480 x 640, per-channel 7-bit weights; the stem padded, where
`detector.quantize` leaves it as trained), and the four graphs are scored through `read_plates` (INT8 reader, stored
threshold) on the val photos and on the val photos in winter dress (`--winter-seeds`, render seeds 0-2 by default;
with `--per-seed` each seed's set also alone, and each graph's difference from the committed FP32 one seed by seed:
one set of 306 renders cannot tell graphs apart that differ by a plate or two); the net's call is timed on the val
photos, in turns.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.ao.quantization import (
    FakeQuantize,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    disable_observer,
)
from torch.utils.data import DataLoader

from anpr_ocr.core.onnx_runtime import quantize_qdq
from anpr_ocr.core.shipped import DETECTOR_WEIGHTS
from anpr_ocr.detector.checkpoint import detector_threshold, load_detector
from anpr_ocr.detector.measures import score_photos
from anpr_ocr.detector.net import PlateDetector, focal_loss, fuse_for_inference, letterbox, offset_loss, to_tensor
from anpr_ocr.detector.onnx_backend import INPUT_NAME, OnnxDetector, export_detector_onnx
from anpr_ocr.detector.photos import load_photos
from anpr_ocr.pipeline.read import found_plates, read_found, reported
from anpr_ocr.report.tables import write_json
from anpr_ocr.research.machine import measured_here
from anpr_ocr.research.photo_review import paired_by_seed, time_per_photo
from anpr_ocr.research.winter_photos import winter_photos, winter_renderer
from anpr_ocr.train.detector import DetectConfig
from anpr_ocr.train.scenes import PlateScenes
from anpr_ocr.train.synth import PlateRenderer


class FakeQuantConv(nn.Module):
    """A conv whose input is fake-quantized per tensor to 8 bits and its weights per channel to 7, as ONNX
    Runtime's QDQ graph quantizes them."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = conv
        self.inputs = FakeQuantize(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                   dtype=torch.quint8, qscheme=torch.per_tensor_affine)
        self.weights = FakeQuantize(observer=MovingAveragePerChannelMinMaxObserver, quant_min=-64, quant_max=63,
                                    dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The conv of the fake-quantized input with the fake-quantized weights."""
        c = self.conv
        return F.conv2d(self.inputs(x), self.weights(c.weight), c.bias, c.stride, c.padding, c.dilation, c.groups)


def swap_convs(module: nn.Module, to_fake: bool) -> None:
    """Every conv under `module` wrapped in a `FakeQuantConv` (to_fake), or unwrapped again."""
    for name, child in module.named_children():
        if to_fake and isinstance(child, nn.Conv2d):
            setattr(module, name, FakeQuantConv(child))
        elif not to_fake and isinstance(child, FakeQuantConv):
            setattr(module, name, child.conv)
        else:
            swap_convs(child, to_fake)


def finetune(model: PlateDetector, photos: list, epochs: int, lr: float, seed: int = 7) -> PlateDetector:
    """The fused `model` fine-tuned with its located part fake-quantized (the module docstring); returned float."""
    torch.manual_seed(seed)
    graph_parts = (model.down8, model.down16, model.down32, model.lateral, model.smooth, model.heat)
    for part in graph_parts:
        swap_convs(part, True)
    config = DetectConfig()
    scenes = PlateScenes(photos, config.crops_per_epoch, config.crop_size, config.model.input_size,
                         PlateRenderer(config.synth), config.paste_prob, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    started = time.perf_counter()
    for epoch in range(epochs):
        if epoch == epochs - 2:
            model.apply(disable_observer)
        scenes.set_epoch(1000 + epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        model.train()
        losses = []
        for x, heat, offsets, mask in DataLoader(scenes, batch_size=config.batch_size, shuffle=True, drop_last=True,
                                                 num_workers=1, generator=torch.Generator().manual_seed(epoch)):
            heat_logits, pred_offsets = model(x)
            loss = focal_loss(heat_logits, heat) + config.offset_weight * offset_loss(pred_offsets, offsets, mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, {time.perf_counter() - started:.0f} s", flush=True)
    for part in graph_parts:
        swap_convs(part, False)
    return model.eval()


def int8_graph(fp32: bytes, calibration: list[np.ndarray]) -> bytes:
    """An exported detector graph quantized by ONNX Runtime (`core.onnx_runtime.quantize_qdq`: QDQ, per-channel
    7-bit weights, UINT8 activations), MinMax on `calibration` (letterboxed photos of one shape)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "fp32.onnx"
        source.write_bytes(fp32)
        batches = [to_tensor([image]).numpy() for image in calibration]
        return quantize_qdq(source, Path(tmp) / "int8.onnx", INPUT_NAME, batches).read_bytes()


def scores(detector: OnnxDetector, threshold: float, photos: list) -> dict:
    """found / reported / read / extra of `read_plates` with this detector (the INT8 reader, default floors)."""
    greys = [p.grey for p in photos]
    found = found_plates(detector, greys, threshold)
    every = read_found(greys, found)
    kept = [[r for r in rs if reported(r)] for rs in every]
    return {k: v for k, v in score_photos(photos, kept, detections=every).items()
            if k in ("plates", "found", "reported", "read", "extra")}


def call_ms(detectors: dict[str, OnnxDetector], photos: list, reps: int = 3) -> dict[str, float]:
    """Median ms of each detector's net call on the photos, in turns photo by photo
    (`research.photo_review.time_per_photo`)."""
    inputs = [to_tensor([letterbox(p.grey, 640).image]) for p in photos]
    timed = time_per_photo(lambda item: detectors[item[0]].locate(item[1]),
                           {name: [(name, x) for x in inputs] * reps for name in detectors})
    return {name: timed[f"{name}_median_ms"] for name in detectors}


def per_seed(detectors: dict[str, OnnxDetector], threshold: float, winter: list, per_set: int) -> dict:
    """`scores` of each render seed's set (`per_set` consecutive photos of `winter`), and each graph's difference
    from the committed FP32 one, seed by seed (`research.photo_review.paired_by_seed`)."""
    sets = [winter[i:i + per_set] for i in range(0, len(winter), per_set)]
    rows = [{name: scores(d, threshold, photos) for name, d in detectors.items()} for photos in sets]
    return {"rows": rows, "paired": paired_by_seed(rows, "committed FP32")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", type=Path, help="COCO keypoints root with train/ and val/")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--winter-seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--per-seed", action="store_true", help="also score each render seed's photos on their own "
                        "and each graph's difference from the committed FP32 one, seed by seed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, val = load_photos(args.photos / "train"), load_photos(args.photos / "val")
    committed = fuse_for_inference(load_detector(DETECTOR_WEIGHTS))
    tuned = finetune(fuse_for_inference(load_detector(DETECTOR_WEIGHTS)), train, args.epochs, args.lr)
    calibration = [b.image for b in (letterbox(p.grey, 640) for p in train) if b.image.shape == (480, 640)][:64]
    detectors = {}
    for name, model in (("committed", committed), ("tuned", tuned)):
        fp32 = export_detector_onnx(model)
        detectors[f"{name} FP32"] = OnnxDetector(fp32, model, args.threads)
        detectors[f"{name} INT8"] = OnnxDetector(int8_graph(fp32, calibration), model, args.threads)
    threshold = detector_threshold(DETECTOR_WEIGHTS)
    winter = [p for seed in args.winter_seeds for p in winter_photos(val, winter_renderer(), seed)]
    result = {"epochs": args.epochs, "lr": args.lr, "threshold": threshold, "winter_seeds": args.winter_seeds,
              "val": {}, "winter_val": {}}
    for name, detector in detectors.items():
        result["val"][name] = scores(detector, threshold, val)
        result["winter_val"][name] = scores(detector, threshold, winter)
        print(name, result["val"][name], result["winter_val"][name], flush=True)
    if args.per_seed:
        result["per_seed"] = per_seed(detectors, threshold, winter, len(val))
        print(json.dumps(result["per_seed"]["paired"]))
    result["call_ms"] = call_ms(detectors, val)
    print(result["call_ms"])
    result.update(measured_here())
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
