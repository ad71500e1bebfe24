"""Tables and JSON records the notebook writes: recipe comparison, model cards, breakdowns, and the
benchmark's tables (from the result `bench.run_benchmark` returns or wrote as JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from ..core import metrics
from ..core.data import Sample
from ..core.files import write_json  # noqa: F401 (the notebooks and scripts write their figures with it)
from ..core.shipped import FP32_WEIGHTS, INT8_WEIGHTS
from ..reader.loader import Reader
from ..reader.predict import DEFAULT_DECODER
from ..research.bench import BACKENDS, PREDICT_ARGS
from ..research.evaluate import Evaluation, evaluate


def markdown_table(header: tuple | list, rows: list[tuple]) -> str:
    """A Markdown table: the header, the separator line, then one line per row."""
    lines = ["| " + " | ".join(str(c) for c in row) + " |" for row in [tuple(header), *rows]]
    lines.insert(1, "|" + "---|" * len(header))
    return "\n".join(lines)


def scores(reader: Reader | str | Path, splits: dict[str, list[Sample]], names=("val", "test")) -> dict[str, dict]:
    """`evaluate`'s summary (exact match and CER as `predict` reads, greedy exact match) on each named split."""
    return {name: evaluate(reader, splits[name]).summary() for name in names if splits.get(name)}


def recipe_row(name: str, reader: Reader | str | Path, splits: dict[str, list[Sample]], wall_seconds: float,
               seed: int, epochs: str, trained_on: str = "train") -> dict:
    """One row of the recipe comparison: val and test exact match and CER as `predict` reads the checkpoint
    (a training checkpoint stores no temperature: 1.0), wall time, seed, and the data the model learned
    from (`trained_on`: "rendered plates", "train", "train + val"). A model that trained on val has no val
    scores (None): they would measure what it learned."""
    saw_val = "val" in trained_on.split(" + ")
    s = scores(reader, splits, ("test",) if saw_val else ("val", "test"))
    val = s.get("val", {})
    return {"recipe": name, "epochs": epochs, "seed": seed, "wall_minutes": round(wall_seconds / 60, 1),
            "trained_on": trained_on, "val_exact_match": val.get("exact_match"), "val_cer": val.get("cer"),
            "test_exact_match": s["test"]["exact_match"], "test_cer": s["test"]["cer"],
            "reread_unsure": s["test"]["reread_unsure"]}


def narrowest_quarter(samples: list[Sample]) -> list[Sample]:
    """The quarter of the crops with the smallest width in pixels: the low-resolution cases."""
    ordered = sorted(samples, key=lambda s: s.image.shape[1])
    return ordered[: max(1, len(ordered) // 4)]


def breakdown(ev: Evaluation) -> dict[str, dict]:
    """Exact match and CER per plate format and region length, and per label length."""
    return {"format": metrics.grouped(ev.truths, ev.preds), "length": metrics.by_length(ev.truths, ev.preds)}


# ---- the benchmark's tables ------------------------------------------------------------------

TABLE_HEADER = ("model", "exact match", "CER", "batch-1 ms", "batch-64 plates/s", "speed-up b1 / b64")
PREDICT_HEADER = ("predict(...) with", "decoder", "batch-1 ms", "of which the model call",
                  "of which outside the model", "batch-64 plates/s", "speed-up b1 / b64")


def table_rows(result: dict, threads: int | None = None) -> list[tuple]:
    """Rows of (model, exact match, CER, batch-1 ms, batch-64 plates/s, speed-up b1 / b64) at `threads`
    (default: the largest thread count measured), formatted as strings; header in TABLE_HEADER."""
    threads = threads or max(result["meta"]["threads"])
    rows = []
    for kind, info in result["backends"].items():
        t = info["timing"][str(threads)]
        rows.append((info["label"] + _default_mark(result, kind), f"{info['exact_match']:.2%}", f"{info['cer']:.2%}",
                     f"{t['batch1_median_ms']:.2f}", f"{t['batch64_plates_per_s']:.0f}",
                     f"{t['speedup_batch1']:.2f}x / {t['speedup_batch64']:.2f}x"))
    return rows


def predict_rows(result: dict, decoders: tuple[str, ...] | None = None) -> list[tuple]:
    """Rows of PREDICT_HEADER: `predict` end to end per backend and decoder (all, or those of `decoders`), its
    batch-1 time split into the bare model call and the rest (empty for older files; "—" where an older file
    lacks the split)."""
    rows = []
    through = result.get("predict", {})
    for decoder, per_kind in through.get("decoders", {}).items():
        if decoders is not None and decoder not in decoders:
            continue
        for kind, t in per_kind.items():
            label = (BACKENDS[kind] + (" via backend='onnx'" if PREDICT_ARGS[kind][1] == "onnx" else "")
                     + _default_mark(result, kind))
            model = through.get("model_call", {}).get(kind)
            adds = t.get("adds_batch1_ms")
            rows.append((label, decoder, f"{t['batch1_median_ms']:.2f}",
                         "—" if model is None or adds is None else f"{model['batch1_median_ms']:.2f}",
                         "—" if adds is None else f"{adds:.2f}", f"{t['batch64_plates_per_s']:.0f}",
                         f"{t['speedup_batch1']:.2f}x / {t['speedup_batch64']:.2f}x"))
    return rows


def cli_table(result: dict) -> tuple[tuple, list[tuple]]:
    """(header, rows): the `predict` command's plates/s on a folder of crop files, a row per backend and
    decoder, a column per count of decoding workers (no rows for older files)."""
    measured = result.get("cli", {}).get("rows", [])
    workers = sorted({r["workers"] for r in measured})
    speed = {(r["backend"], r["decoder"], r["workers"]): f"{r['plates_per_s']:.0f}" for r in measured}
    cases = dict.fromkeys((r["backend"], r["decoder"]) for r in measured)
    header = ("anpr-ocr predict with", "decoder", *(f"plates/s, {n} decoding workers" for n in workers))
    return header, [(BACKENDS[b], d, *(speed.get((b, d, n), "-") for n in workers)) for b, d in cases]


def _default_mark(result: dict, kind: str) -> str:
    """" (INT8 default here)" on the INT8 backend predict(backend="auto") ran on the benchmark's CPU."""
    return " (INT8 default here)" if result["meta"].get("int8_default") == kind else ""


def cpu_label(result: dict) -> str:
    """The benchmark's CPU with its INT8-relevant features, e.g. "AMD EPYC 7B13 (AVX2, no VNNI)"."""
    from ..core.cpu import describe

    cpu = result["meta"].get("cpu")
    return result["meta"].get("processor", "?") + (f" ({describe(cpu)})" if cpu else "")


def machine_row(result: dict) -> tuple:
    """(CPU, date, FX INT8 batch-1 ms, batch-64 plates/s, its speed-up over FP32 for the model call and through
    `predict` with each decoder, b1 / b64) at the largest thread count: one machine's line in the README."""
    threads = str(max(result["meta"]["threads"]))
    t = result["backends"]["int8_fx"]["timing"][threads]
    decoders = result.get("predict", {}).get("decoders", {})
    through = [f"{d['int8_fx']['speedup_batch1']:.2f}x / {d['int8_fx']['speedup_batch64']:.2f}x"
               if "int8_fx" in (d := decoders.get(name, {})) else "—" for name in ("greedy", "format")]
    return (cpu_label(result), result["meta"].get("date_utc", "?"),
            f"{t['batch1_median_ms']:.2f}", f"{t['batch64_plates_per_s']:.0f}",
            f"{t['speedup_batch1']:.2f}x / {t['speedup_batch64']:.2f}x", *through)


def format_predict_table(result: dict) -> str:
    """A Markdown table of `predict_rows`, or "" when the result has none."""
    rows = predict_rows(result)
    if not rows:
        return ""
    return f"through predict, {result['predict']['threads']} thread(s)\n" + markdown_table(PREDICT_HEADER, rows)


def format_cli_table(result: dict) -> str:
    """A Markdown table of `cli_table`, or "" when the result has none."""
    header, rows = cli_table(result)
    if not rows:
        return ""
    cli = result["cli"]
    return (f"`anpr-ocr predict FOLDER --json` on {cli['plates']} crop files, {cli['threads']} thread(s)\n"
            + markdown_table(header, rows))


def format_table(result: dict, threads: int | None = None) -> str:
    """A Markdown table of `table_rows`."""
    threads = threads or max(result["meta"]["threads"])
    return (f"{threads} thread(s), {result['meta']['n_samples']} samples, model call only\n"
            + markdown_table(TABLE_HEADER, table_rows(result, threads)))


README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def results_markdown(weights_dir: str | Path, figures_dir: str | Path) -> str:
    """The README's results section, made only from the JSON files a run wrote."""
    weights_dir, figures_dir = Path(weights_dir), Path(figures_dir)
    fp32 = _load(weights_dir / FP32_WEIGHTS.with_suffix(".json").name)
    int8 = _load(weights_dir / INT8_WEIGHTS.with_suffix(".json").name)
    recipes = _load(figures_dir / "recipes.json")
    bench = _load(figures_dir / "benchmark.json")
    if fp32 is None:
        return "_No committed run yet._"
    pct = lambda x: "—" if x is None else f"{100 * x:.2f}%"  # noqa: E731
    lines = [f"Data: {fp32['data']} ({', '.join(f'{k} {v}' for k, v in fp32['splits'].items())}); "
             f"seed {fp32['seed']}; written {fp32['created']} by `ocr_train.ipynb`.", ""]
    if recipes:
        header = ("recipe", "epochs", "val exact match", "val CER", "test exact match", "test CER", "wall, min")
        lines += [markdown_table(header, [(r["recipe"], r["epochs"], pct(r["val_exact_match"]), pct(r["val_cer"]),
                                           pct(r["test_exact_match"]), pct(r["test_cer"]), r["wall_minutes"])
                                          for r in recipes["rows"]]), ""]
        if any(r["recipe"] == "real only" for r in recipes["rows"]):
            lines += ["\"real only\" trains on the real crops alone: CTC from scratch on about a thousand crops stays "
                      "on its all-blank plateau, which is why the reader pretrains on rendered plates.", ""]
        lines += _test_interval(recipes, fp32)
        if fp32.get("metrics", {}).get("test", {}).get("reread_unsure") and \
                not any(r.get("reread_unsure") for r in recipes["rows"]):
            lines += ["The recipe table is the notebook run's record: it read each crop once, before `predict` "
                      "looked twice at the crops it is unsure of.", ""]
    lines += _predict_lines(fp32, int8)
    cv = _load(figures_dir / "crossval.json")
    if cv:
        lines += _crossval_lines(cv)
    photos = _load(figures_dir / "detect_metrics.json")
    if photos:
        lines += _photo_lines(photos)
    if bench:
        threads = max(bench["meta"]["threads"])
        lines += [f"Committed models on the test split, CPU benchmark at {threads} threads "
                  f"(`figures/benchmark.json`: {', '.join(machine_row(bench)[:2])}):", "",
                  markdown_table(TABLE_HEADER, table_rows(bench, threads))]
        through_predict = predict_rows(bench, decoders=(DEFAULT_DECODER,))
        if through_predict:
            lines += ["", f"The same, end to end through `predict` with its default decoder on grey crops "
                      f"({bench['predict']['threads']} threads; every decoder in the JSON):", "",
                      markdown_table(PREDICT_HEADER, through_predict)]
    elif int8:
        lines += [f"FP32 test exact match {pct(fp32['metrics']['test']['exact_match'])}, "
                  f"FX INT8 {pct(int8['metrics']['test']['exact_match'])}."]
    return "\n".join(lines)


def _test_interval(recipes: dict, fp32: dict) -> list[str]:
    """A line saying how precise the kept recipe's test exact match is, from its count of test crops."""
    n = fp32.get("splits", {}).get("test")
    kept = [r for r in recipes["rows"] if r["recipe"] == fp32.get("recipe")]
    if not n or not kept:
        return []
    share = kept[0]["test_exact_match"]
    k = round(share * n)
    low, high = metrics.wilson_interval(k, n)
    return [f"The test split is small: {kept[0]['recipe']}'s {100 * share:.2f}% is {k} of {n} crops, with a 95% "
            f"(Wilson) interval of {100 * low:.1f}% to {100 * high:.1f}%; one plate is {100 / n:.2f} pp.", ""]


def _predict_lines(fp32: dict, int8: dict | None) -> list[str]:
    """The committed models' test scores as `predict` reads by default. Cards carry them as `metrics` with
    greedy decoding beside them; cards written before that kept them under `predict_metrics`, and their
    `metrics` (and that run's tables) decoded greedily."""
    n = fp32.get("splits", {}).get("test")
    test = fp32.get("metrics", {}).get("test", {})
    current = "greedy_exact_match" in test
    reads = {"decoder": test.get("decoder"), "test": test} if current else fp32.get("predict_metrics")
    if not reads or not n:
        return []
    test = reads["test"]
    k = round(test["exact_match"] * n)
    low, high = metrics.wilson_interval(k, n)
    second_look = ", unsure crops read again from two more views" if test.get("reread_unsure") else ""
    rescored = f"; scored again {fp32['rescored']['created']}" if "rescored" in fp32 else ""
    line = (f"As `predict` reads by default ({reads['decoder']} decoder, calibrated temperature{second_look}"
            f"{rescored}), the committed FP32 model reads {100 * test['exact_match']:.2f}% of the test crops exactly "
            f"({k} of {n}; 95% Wilson interval {100 * low:.1f}% to {100 * high:.1f}%), CER {100 * test['cer']:.2f}%")
    q = (int8 or {}).get("metrics" if current else "predict_metrics", {}).get("test")
    if q:
        model = {"int8_onnx": "ONNX Runtime INT8"}.get(q.get("model"), "FX INT8")  # cards before "model" held FX's
        line += f"; {model} {100 * q['exact_match']:.2f}%, CER {100 * q['cer']:.2f}%"
    if current:
        once = ", each crop once," if test.get("reread_unsure") else ""
        return [line + f". Greedy decoding{once} reads {100 * test['greedy_exact_match']:.2f}%; every exact match "
                "here is what `predict` reads.", ""]
    return [line + ". The tables decode greedily.", ""]


def _crossval_lines(cv: dict) -> list[str]:
    """What cross-validation says of the kept recipe: out-of-fold scores and the coverage trade."""
    row = next(r for r in cv["rows"] if r["recipe"] == cv["kept"])
    trade = cv["coverage"]
    sd = row["exact_match_read_sd_folds"]
    return [f"Cross-validated over the {row['n']} train + val crops ({row['folds']} folds, {row['seeds']} seed(s); "
            f"`figures/crossval.json`) and read out of fold by `predict`'s decoder, the kept recipe reads "
            f"{100 * row['exact_match_read']:.2f}% exactly"
            + ("" if sd is None else f" (sd over folds {100 * sd:.2f} pp)")
            + f", CER {100 * row['cer_read']:.2f}%. With the {100 * trade['flagged']:.1f}% least confident readings "
            f"flagged (confidence below {trade['threshold']:.3f}), the rest read {100 * trade['accuracy']:.2f}% "
            "exactly.", ""]


def _photo_lines(detect: dict) -> list[str]:
    """What `read_plates` does on the test photos: plates found (by the detector, before the confidence floors),
    plates with a reported reading (cards written before that count left it out), plates read, extra readings,
    time a photo."""
    test, speed = detect["metrics"]["test"], detect["speed"]
    reported = f", reported a reading for {100 * test['reported_rate']:.1f}%" if "reported_rate" in test else ""
    return [f"From whole photos (`figures/detect_metrics.json`): on {test['photos']} test photos `read_plates` found "
            f"{100 * test['found_rate']:.1f}% of {test['plates']} plates{reported}, read "
            f"{100 * test['read_rate']:.1f}% exactly, {test['extra_per_photo']:.2f} extra readings a photo, "
            f"{speed['array_median_ms']:.1f} ms a photo "
            f"(median, {speed['threads']} threads).", ""]


def update_readme(readme: str | Path, weights_dir: str | Path, figures_dir: str | Path) -> None:
    """Replace the text between the README's results markers with `results_markdown`."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + results_markdown(weights_dir, figures_dir) + "\n" + text[end:],
                      encoding="utf-8")
