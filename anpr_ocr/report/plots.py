"""Figures for the notebook and the README. Each function draws one figure and may save it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import matplotlib.pyplot as plt
import numpy as np

from ..core.metrics import confusion_matrix


def _save(fig, path: str | Path | None):
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def image_grid(images: list[np.ndarray], titles: list[str], cols: int = 6, path: str | Path | None = None,
               title: str | None = None) -> plt.Figure:
    """Grey crops in a grid, each resized to 4:1 for display, titled with its label."""
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.2, rows * 0.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, t in zip(axes.flat, images, titles):
        ax.imshow(cv2.resize(img, (160, 40)), cmap="gray", vmin=0, vmax=255)
        ax.set_title(t, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def data_overview(splits: dict[str, list], path: str | Path | None = None) -> plt.Figure:
    """Counts per split, label lengths, character frequencies and crop sizes in one figure."""
    fig, axes = plt.subplots(1, 4, figsize=(18, 3.4))
    axes[0].bar(list(splits), [len(v) for v in splits.values()], color="tab:blue")
    axes[0].set_title("crops per split")
    lengths = Counter(len(s.text) for v in splits.values() for s in v)
    axes[1].bar([str(k) for k in sorted(lengths)], [lengths[k] for k in sorted(lengths)], color="tab:orange")
    axes[1].set_title("label length")
    chars = Counter(c for v in splits.values() for s in v for c in s.text)
    keys = sorted(chars)
    axes[2].bar(keys, [chars[k] for k in keys], color="tab:green")
    axes[2].set_title("character frequency")
    for name, v in splits.items():
        axes[3].scatter([s.image.shape[1] for s in v], [s.image.shape[0] for s in v], s=6, label=name, alpha=0.6)
    axes[3].set_xlabel("width, px")
    axes[3].set_ylabel("height, px")
    axes[3].set_title("crop size")
    axes[3].legend()
    fig.tight_layout()
    return _save(fig, path)


def training_curves(history: list[dict], path: str | Path | None = None, title: str = "",
                    heldout: list[dict] | None = None) -> plt.Figure:
    """Train and val loss, val exact match and val CER per epoch; the stage change is marked.

    A run without val (trained on every real crop) draws its train loss only; `heldout`, the mean
    held-out curve of cross-validation over its fine-tuning epochs (`crossval.mean_curve`), is
    drawn over those epochs instead."""
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
    axes[0].plot(epochs, [h["train_loss"] for h in history], label="train loss")
    axes[0].set_yscale("log")
    if all("val_loss" in h for h in history):
        axes[0].plot(epochs, [h["val_loss"] for h in history], label="val loss")
        axes[1].plot(epochs, [100 * h["val_exact_match"] for h in history], color="tab:green", label="val")
        axes[2].plot(epochs, [100 * h["val_cer"] for h in history], color="tab:red", label="val")
    switch = next((h["epoch"] for h in history if h["stage"] == "finetune"), None)
    if heldout:
        first = switch if switch is not None else epochs[0]
        xs = [first + p["epoch"] - 1 for p in heldout]
        axes[1].plot(xs, [100 * p["exact_match"] for p in heldout], color="tab:green", ls=":",
                     label="held out, mean over folds")
        axes[2].plot(xs, [100 * p["cer"] for p in heldout], color="tab:red", ls=":", label="held out, mean over folds")
    axes[1].set_ylabel("exact match, %")
    axes[2].set_ylabel("CER, %")
    axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if switch is not None and switch > epochs[0]:
            ax.axvline(switch - 0.5, color="grey", ls="--", lw=1, label="synthetic → real")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def confusion_heatmap(truths: list[str], preds: list[str], alphabet: str, path: str | Path | None = None,
                      title: str = "") -> plt.Figure:
    """Character confusion matrix (rows truth, columns prediction), log-coloured, counts written in."""
    matrix, labels = confusion_matrix(truths, preds, alphabet)
    fig, ax = plt.subplots(figsize=(10, 9))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("truth")
    for i, j in zip(*np.nonzero(matrix)):
        ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                color="white" if i == j else "crimson")
    ax.set_title(title or "character confusion matrix (∅: missing or extra character)")
    fig.tight_layout()
    return _save(fig, path)


def robustness_curves(results: dict[str, list[tuple[float, float]]], labels: dict[str, str],
                      path: str | Path | None = None) -> plt.Figure:
    """Exact match against degradation strength, one panel per degradation."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
    for ax, (name, points) in zip(axes[0], results.items()):
        xs, ys = zip(*points)
        ax.plot(xs, [100 * y for y in ys], marker="o")
        ax.set_title(name)
        ax.set_xlabel(labels.get(name, "strength"))
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
        if name.startswith("downscale") or name.startswith("jpeg"):
            ax.invert_xaxis()
    axes[0][0].set_ylabel("test exact match, %")
    fig.tight_layout()
    return _save(fig, path)


def coverage_curve(curve: list[tuple[float, float, float]], path: str | Path | None = None,
                   title: str = "") -> plt.Figure:
    """Accuracy of the readings kept against the share kept, as the confidence threshold rises."""
    _, coverage, accuracy = zip(*curve)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot([100 * c for c in coverage], [100 * a for a in accuracy], marker=".")
    ax.set_xlabel("readings kept (coverage), %")
    ax.set_ylabel("exact match of those kept, %")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_benchmark(result: dict, path: str | Path = "figures/benchmark.png") -> Path:
    """Bar charts of `bench.run_benchmark`'s batch-1 latency (median, p90 whisker) and batch-64 throughput
    per backend and thread count."""
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
                                f"batch {result['meta']['throughput_batch']} throughput, plates/s")):
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
