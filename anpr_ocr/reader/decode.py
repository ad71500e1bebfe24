"""CTC decoding: per-frame class scores to plate strings, with a confidence for each."""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.alphabet import ALPHABET, BLANK
from ..core.formats import LAYOUTS, REGION_CODES, Layout


@dataclass(frozen=True)
class Decoded:
    """A decoded string, the probability of that reading, and one probability per character."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    if z.dtype.kind != "f":  # integer logits: exp in place needs a float array
        z = z.astype(np.float64)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def greedy_decode(probs: np.ndarray, alphabet: str = ALPHABET) -> list[Decoded]:
    """Best class per frame, repeats merged, blanks dropped, for each item of a (B, T, C) batch.

    A character's confidence is the highest probability among the frames that emitted it; the
    string's confidence is the product of the best-path probabilities of all frames.
    """
    paths, best_p = _best_paths(probs, alphabet)
    path_confidence = np.exp(np.log(np.clip(best_p, 1e-12, 1.0)).sum(axis=1)).tolist()
    return [Decoded(text, confidence, chars) for (text, chars), confidence in zip(paths, path_confidence)]


def _best_paths(probs: np.ndarray, alphabet: str) -> tuple[list[tuple[str, tuple[float, ...]]], np.ndarray]:
    """Each item's best-path reading as (text, character confidences), and the (B, T) best probabilities.

    The argmax is vectorised; the walk along the 32 frames is plain Python: on arrays this small, numpy's
    run-length tricks cost more in calls than they save (docs/experiments.md).
    """
    best_p = probs.max(axis=-1)  # (B, T)
    paths = []
    for classes, ps in zip(probs.argmax(axis=-1).tolist(), best_p.tolist()):
        text, chars, previous = [], [], BLANK
        for c, p in zip(classes, ps):
            if c != previous and c != BLANK:  # a new character starts
                text.append(alphabet[c - 1])
                chars.append(p)
            elif c == previous and c != BLANK:  # its run goes on
                chars[-1] = max(chars[-1], p)
            previous = c
        paths.append(("".join(text), tuple(chars)))
    return paths, best_p


# --------------------------------------------------------------------------------------------
# String probabilities and alignments under the CTC model, batched over (B, T, C) arrays.
# --------------------------------------------------------------------------------------------

_NEG = -1e30  # log of "impossible"; finite so that sums and maxima stay NaN-free
BEAM_WIDTH = 10  # prefixes the beam searches keep a frame
PRUNE = 1e-3  # a class less probable than this in a frame starts no prefix there (the free search)
MAX_PER_FRAME = 6  # nor one outside the frame's most probable few
MAX_RATIO = 20.0  # how much less probable than the free reading a valid plate may be and still replace it
CONSTRAINED_PER_FRAME = 8  # classes a frame the format decoder's constrained search may start (`format_decode`)


@functools.lru_cache(maxsize=16)
def _class_index(alphabet: str) -> dict[str, int]:
    return {c: i + 1 for i, c in enumerate(alphabet)}


def _label_indices(texts: list[str], alphabet: str) -> list[list[int]]:
    """Each text as class indices (1-based; 0 is the blank); a foreign character is a ValueError."""
    index = _class_index(alphabet)
    out = []
    for text in texts:
        try:
            out.append([index[c] for c in text])
        except KeyError as exc:
            raise ValueError(f"text {text!r} has a character outside the alphabet: {exc}") from None
    return out


def ctc_log_likelihood(probs: np.ndarray, texts: list[str], alphabet: str = ALPHABET) -> np.ndarray:
    """log p(text | frames) summed over every CTC alignment (the forward algorithm), shape (B,).

    `probs` is (B, T, C) with class 0 the blank; `texts[b]` is the string to score for item b.
    A text that no alignment of T frames can produce gets a log-likelihood of about -1e30.
    The forward pass is torch's CTC loss (one C++ call, in float64), not a Python loop over frames:
    it is a confidence for every reading `predict` returns, so it sits on the latency path, and the
    calls around it are kept few and cheap (no grad-mode switch, no reduction). It runs on one thread
    (torch's thread count is restored after it): its loop over the batch would wake PyTorch's OpenMP
    workers, which spin on for milliseconds after it and slow an ONNX Runtime call that follows, such as
    the next photo's detector; one thread costs little at the batch sizes decoded (docs/experiments.md).
    """
    import torch

    probs = np.asarray(probs, dtype=np.float64)
    batch, frames, _ = probs.shape
    if len(texts) != batch:
        raise ValueError(f"need one text per batch item, got {len(texts)} for {batch}")
    if frames == 0:
        return np.where([len(t) == 0 for t in texts], 0.0, _NEG)
    if batch == 0:
        return np.zeros(0)
    labels = _label_indices(texts, alphabet)
    targets = torch.from_numpy(np.array([i for text in labels for i in text], dtype=np.int64))
    log_probs = np.maximum(probs, 1e-30)
    np.log(log_probs, out=log_probs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        nll = torch.ctc_loss(torch.from_numpy(log_probs).transpose(0, 1), targets, [frames] * batch,  # (T, B, C)
                             [len(text) for text in labels], BLANK, 0, False).numpy()  # reduction none
    finally:
        torch.set_num_threads(threads)
    return np.maximum(np.where(np.isfinite(nll), -nll, _NEG), _NEG)


def char_confidences(probs: np.ndarray, texts: list[str], alphabet: str = ALPHABET) -> list[tuple[float, ...]]:
    """Per-character confidences of given readings, as `greedy_decode` defines them.

    Each text is aligned to the frames by its most probable CTC path (Viterbi); a character's
    confidence is the highest probability of its class among the frames aligned to it. For the
    greedy reading this is exactly what `greedy_decode` reports.
    """
    probs = np.asarray(probs, dtype=np.float64)
    batch, frames, _ = probs.shape
    if frames == 0 or batch == 0:
        return [tuple(0.0 for _ in t) for t in texts]
    logp = np.log(np.clip(probs, 1e-30, 1.0))
    return [_viterbi_chars(probs[b], logp[b], labels) for b, labels in enumerate(_label_indices(texts, alphabet))]


def char_frames(probs: np.ndarray, texts: list[str], alphabet: str = ALPHABET) -> list[tuple[tuple[int, int], ...]]:
    """Where each character of a given text sits in the frames: (first, last) frame of its class along
    the text's most probable CTC path (Viterbi), one pair per character."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape[1] == 0:
        raise ValueError("no frames to align the texts to")
    logp = np.log(np.clip(probs, 1e-30, 1.0))
    out = []
    for b, labels in enumerate(_label_indices(texts, alphabet)):
        spans: dict[int, list[int]] = {}
        for t, s in enumerate(_viterbi_states(logp[b], labels)):
            if s % 2 == 1:
                spans.setdefault(s // 2, []).append(t)
        out.append(tuple((min(spans[k]), max(spans[k])) for k in range(len(labels))))
    return out


def _viterbi_chars(probs: np.ndarray, logp: np.ndarray, labels: list[int]) -> tuple[float, ...]:
    """`char_confidences` of one item: (T, C) probabilities and their logs, the text as class labels."""
    best_p = [0.0] * len(labels)
    rows = probs.tolist()
    for t, s in enumerate(_viterbi_states(logp, labels)):
        if s % 2 == 1:
            q = rows[t][labels[s // 2]]
            if q > best_p[s // 2]:
                best_p[s // 2] = q
    return tuple(best_p)


def _viterbi_states(logp: np.ndarray, labels: list[int]) -> list[int]:
    """The most probable CTC path of a text over (T, C) log-probabilities, as one lattice state a frame.

    The lattice is the blank-interleaved label sequence (state 2k + 1 is character k, even states
    blanks); a state is reached by staying, from the state before, or (for a character unlike the one
    two states back) by skipping a blank. The walk is scalar Python over at most 2 * 9 + 1 states and
    32 frames: on arrays this small numpy's per-frame calls cost more than the loop (docs/experiments.md).
    Ties go to staying, then to the state before.
    """
    ext = [BLANK]
    for label in labels:
        ext += [label, BLANK]
    n = len(ext)
    skip = [s >= 2 and ext[s] != BLANK and ext[s] != ext[s - 2] for s in range(n)]
    emit = logp[:, ext].tolist()  # (T, n) log-probability of each state's class
    delta = [_NEG] * n
    delta[0] = emit[0][0]
    if n > 1:
        delta[1] = emit[0][1]
    back = []  # back[t - 1][s]: how frame t reached state s (0 stay, 1 from s-1, 2 from s-2)
    for e in emit[1:]:
        new, steps = [0.0] * n, [0] * n
        before = before2 = _NEG
        for s in range(n):
            here = best = delta[s]
            step = 0
            if before > best:
                best, step = before, 1
            if skip[s] and before2 > best:
                best, step = before2, 2
            v = best + e[s]
            new[s] = v if v > _NEG else _NEG
            steps[s] = step
            before2, before = before, here
        back.append(steps)
        delta = new
    s = n - 1 if n == 1 or delta[n - 1] >= delta[n - 2] else n - 2
    states = [0] * len(emit)
    for t in range(len(emit) - 1, -1, -1):
        states[t] = s
        if t:
            s -= back[t - 1][s]
    return states


# --------------------------------------------------------------------------------------------
# CTC prefix beam search.
# --------------------------------------------------------------------------------------------

def _prefix_beam(probs: np.ndarray, candidates: list[list[int]], beam_width: int,
                 follows=None, final=None) -> list[tuple[tuple[int, ...], float]]:
    """Prefix beam search over one (T, C) item; returns (labels, log p) best first.

    `candidates[t]` are the non-blank classes worth extending with at frame t. `follows(prefix)`, the
    classes that may extend a prefix (a set), constrains the search; `final(labels)` filters the
    finished beams. The best `beam_width` prefixes of a frame are taken with `heapq.nlargest`, which
    ranks exactly as a stable sort does, on the few hundred prefixes a frame makes.
    Probabilities are rescaled every frame (all beams by the same factor) so nothing underflows.
    The frames are read as Python floats: the loop is scalar arithmetic, where numpy scalars cost
    several times more (same IEEE doubles, same results).
    """
    beams: dict[tuple[int, ...], list[float]] = {(): [1.0, 0.0]}  # prefix -> [p ends in blank, p ends in char]
    log_scale = 0.0
    for p, cands in zip(probs.tolist(), candidates):
        blank = p[BLANK]
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = pb + pnb
            entry = nxt.setdefault(prefix, [0.0, 0.0])
            entry[0] += total * blank
            last = prefix[-1] if prefix else None
            if last is not None:
                entry[1] += pnb * p[last]  # the last character's run goes on
            allowed = None if follows is None else follows(prefix)
            for c in cands:
                if allowed is not None and c not in allowed:
                    continue
                e = nxt.setdefault(prefix + (c,), [0.0, 0.0])
                e[1] += (pb if c == last else total) * p[c]
        ranked = heapq.nlargest(beam_width, nxt.items(), key=_beam_mass)
        top = ranked[0][1][0] + ranked[0][1][1] if ranked else 0.0
        if top <= 0.0:
            return []
        beams = {k: [v[0] / top, v[1] / top] for k, v in ranked}
        log_scale += math.log(top)
    done = [(k, log_scale + math.log(v[0] + v[1])) for k, v in beams.items() if v[0] + v[1] > 0]
    if final is not None:
        done = [d for d in done if final(d[0])]
    return sorted(done, key=lambda d: d[1], reverse=True)


def _beam_mass(item: tuple[tuple[int, ...], list[float]]) -> float:
    return item[1][0] + item[1][1]


def _frame_candidates(probs: np.ndarray, prune: float, max_per_frame: int) -> np.ndarray:
    """(B, T) boolean masks of non-blank classes worth extending with: vectorised over the batch."""
    order = np.argsort(-probs, axis=-1)[..., :max_per_frame]
    keep = np.zeros(probs.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    keep &= probs >= prune
    keep[..., BLANK] = False
    return keep


def beam_candidates(probs: np.ndarray, beam_width: int = BEAM_WIDTH, prune: float = PRUNE,
                    max_per_frame: int = MAX_PER_FRAME, alphabet: str = ALPHABET) -> list[list[tuple[str, float]]]:
    """The beam's readings for each item of a (B, T, C) batch: [(text, log p), ...], best first.

    Classes below `prune` probability in a frame (or outside its top `max_per_frame`) are never
    started there; `log p` is the beam's estimate of the string probability (a lower bound).
    """
    probs = _check_probs(probs)
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    keep = _frame_candidates(probs, prune, max_per_frame)
    out = []
    for b in range(probs.shape[0]):
        cands = [np.flatnonzero(keep[b, t]).tolist() for t in range(probs.shape[1])]
        found = _prefix_beam(probs[b], cands, beam_width)
        out.append([("".join(alphabet[c - 1] for c in k), lp) for k, lp in found])
    return out


def _check_probs(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 3:
        raise ValueError(f"expected probabilities of shape (B, T, C), got {probs.shape}")
    return probs


def _scored(probs: np.ndarray, texts: list[str], alphabet: str) -> list[Decoded]:
    """Decoded readings whose confidence is the exact CTC probability of the whole string."""
    if not texts:
        return []
    log_p = ctc_log_likelihood(probs, texts, alphabet)
    chars = char_confidences(probs, texts, alphabet)
    return [Decoded(t, float(np.exp(lp)), c) for t, lp, c in zip(texts, log_p, chars)]


def _greedy_scored(probs: np.ndarray, alphabet: str) -> tuple[list[Decoded], np.ndarray]:
    """The best-path readings, each with the exact CTC probability of its string as confidence, and
    those log-probabilities (B,)."""
    paths, _ = _best_paths(probs, alphabet)
    log_p = ctc_log_likelihood(probs, [text for text, _ in paths], alphabet)
    return [Decoded(text, float(np.exp(lp)), chars) for (text, chars), lp in zip(paths, log_p)], log_p


def beam_decode(probs: np.ndarray, beam_width: int = BEAM_WIDTH, prune: float = PRUNE,
                max_per_frame: int = MAX_PER_FRAME, alphabet: str = ALPHABET) -> list[Decoded]:
    """CTC prefix beam search over a (B, T, C) batch: the most probable string, not the best path.

    The confidence is the exact probability of the chosen string (all its alignments, by the
    forward algorithm); character confidences are as in `greedy_decode`, along the string's
    most probable alignment. Where the greedy reading already holds more than half of the
    probability mass, no other string can be more probable: it is returned without a search.
    """
    probs = _check_probs(probs)
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    out, log_p = _greedy_scored(probs, alphabet)
    unsure = np.flatnonzero(log_p <= np.log(0.5))
    if unsure.size:
        found = beam_candidates(probs[unsure], beam_width, prune, max_per_frame, alphabet)
        # Only a string the beam changed needs scoring: the greedy one already carries its exact
        # probability, and its best path is its most probable alignment (the Viterbi one).
        changed = [(b, f[0][0]) for b, f in zip(unsure.tolist(), found) if f and f[0][0] != out[b].text]
        if changed:
            rows = [b for b, _ in changed]
            for b, d in zip(rows, _scored(probs[rows], [t for _, t in changed], alphabet)):
                out[b] = d
    return out


# --------------------------------------------------------------------------------------------
# Format-aware decoding: prefer a GOST R 50577 reading when the model makes one nearly as likely.
# --------------------------------------------------------------------------------------------

NEXT_CACHE = 100_000  # prefixes whose next labels a grammar keeps (a few MB); it starts over when full


class PlateGrammar:
    """Which strings are plates (a layout's body plus a region code), and which are prefixes of one.

    The layouts come from `formats.LAYOUTS`; `regions` are the region codes accepted (each layout
    takes those of its region lengths), `None` any code of those lengths.
    """

    def __init__(self, regions: tuple[str, ...] | None = REGION_CODES,
                 layouts: tuple[Layout, ...] = tuple(LAYOUTS.values()), alphabet: str = ALPHABET):
        self.alphabet = alphabet
        by_lengths = {}  # region lengths -> (codes, their prefixes): layouts mostly share them
        for lengths in {layout.region_lengths for layout in layouts}:
            if regions is None:
                codes = frozenset(f"{n:0{k}d}" for k in lengths for n in range(10 ** k))
            else:
                codes = frozenset(r for r in regions if len(r) in lengths)
            by_lengths[lengths] = codes, frozenset(r[:i] for r in codes for i in range(len(r) + 1))
        self.rules = tuple((layout.body, *by_lengths[layout.region_lengths]) for layout in layouts)
        # next_labels' tables: the labels of each character kind, and per rule which labels may follow each
        # prefix of a region code (a region code's characters are in the alphabet or no plate reads it)
        index = {c: i + 1 for i, c in enumerate(alphabet)}
        self._kinds = {"D": frozenset(index[c] for c in alphabet if c.isdigit()),
                       "L": frozenset(index[c] for c in alphabet if not c.isdigit())}
        self._digit = (False, *(c.isdigit() for c in alphabet))  # by label; label 0 is the blank
        self._region_next = tuple(self._following(prefixes, index) for _, _, prefixes in self.rules)
        self._next_cache: dict[tuple[int, ...], frozenset[int]] = {}  # next_labels' answers, NEXT_CACHE at most

    @staticmethod
    def _following(prefixes: frozenset[str], index: dict[str, int]) -> dict[str, frozenset[int]]:
        """For each prefix of a region code, the labels of the characters that extend it to a longer one."""
        after: dict[str, set[int]] = {}
        for p in prefixes:
            if p and p[-1] in index:
                after.setdefault(p[:-1], set()).add(index[p[-1]])
        return {p: frozenset(labels) for p, labels in after.items()}

    @staticmethod
    def _kind(c: str) -> str:
        return "D" if c.isdigit() else "L"

    def viable(self, text: str) -> bool:
        """Whether `text` is a prefix of some valid plate."""
        kinds = "".join(self._kind(c) for c in text)
        return any(kinds[:len(b)] == b[:len(kinds)] and text[len(b):] in prefixes for b, _, prefixes in self.rules)

    def valid(self, text: str) -> bool:
        """Whether `text` is a complete plate: a layout's body followed by a known region code."""
        kinds = "".join(self._kind(c) for c in text)
        return any(kinds[:len(b)] == b and text[len(b):] in codes for b, codes, _ in self.rules)

    def labels_viable(self, labels: tuple[int, ...]) -> bool:
        """`viable` for class labels (1-based into the alphabet)."""
        return self.viable("".join(self.alphabet[i - 1] for i in labels))

    def next_labels(self, prefix: tuple[int, ...]) -> frozenset[int]:
        """The class labels c for which `labels_viable(prefix + (c,))`: those that may follow `prefix` on the
        way to a valid plate. Read off each rule's tables rather than by trying every label (the constrained
        beam search asks for every prefix it grows), and cached by prefix."""
        hit = self._next_cache.get(prefix)
        if hit is not None:
            return hit
        kinds = "".join("D" if self._digit[c] else "L" for c in prefix)
        n = len(prefix)
        out: set[int] = set()
        for (body, _, prefixes), region_next in zip(self.rules, self._region_next):
            if n < len(body):
                if kinds == body[:n] and "" in prefixes:  # no region code: no plate of this layout
                    out |= self._kinds[body[n]]
            elif kinds[:len(body)] == body:
                out |= region_next.get("".join(self.alphabet[c - 1] for c in prefix[len(body):]), frozenset())
        if len(self._next_cache) >= NEXT_CACHE:
            self._next_cache.clear()
        hit = self._next_cache[prefix] = frozenset(out)
        return hit

    def labels_valid(self, prefix: tuple[int, ...]) -> bool:
        """`valid` for class labels (1-based into the alphabet)."""
        return self.valid("".join(self.alphabet[i - 1] for i in prefix))


_GRAMMARS: dict[tuple, PlateGrammar] = {}


def _grammar(regions: tuple[str, ...] | None, alphabet: str) -> PlateGrammar:
    key = (None if regions is None else tuple(regions), alphabet)
    if key not in _GRAMMARS:
        _GRAMMARS[key] = PlateGrammar(regions, alphabet=alphabet)
    return _GRAMMARS[key]


def format_decode(probs: np.ndarray, beam_width: int = BEAM_WIDTH, max_ratio: float = MAX_RATIO,
                  prune: float = PRUNE, max_per_frame: int = MAX_PER_FRAME,
                  regions: tuple[str, ...] | None = REGION_CODES, alphabet: str = ALPHABET,
                  constrained_per_frame: int | None = CONSTRAINED_PER_FRAME) -> list[Decoded]:
    """Beam search that prefers a valid plate when the model finds one nearly as likely.

    For each item two searches run: the free prefix beam search (its best string is what `beam_decode`
    returns) and one constrained to GOST R 50577 plates (a body layout and a region code from
    `regions`; `None` accepts any two- or three-digit region). The best valid string replaces the
    free one when its exact CTC probability is at least 1/`max_ratio` of the free one's; otherwise
    the free reading stands, so an image that really shows a non-standard string still reads as
    such. `max_ratio=1` never overrides a more probable reading; larger values trust the formats more.
    The constrained search may start the `constrained_per_frame` most probable classes above 1e-6 in a
    frame (None: all of them; the grammar keeps the search small), so a look-alike the model gave
    little weight (O for 0, B for 8) is still reachable. Eight read every VKCV crop and photo as all
    of them do, and spare the search on flat frames, such as a detector false alarm's (docs/experiments.md).
    The confidence is the exact CTC probability of the string returned.
    """
    probs = _check_probs(probs)
    if max_ratio < 1:
        raise ValueError(f"max_ratio must be at least 1, got {max_ratio}")
    grammar = _grammar(regions, alphabet)
    free = beam_decode(probs, beam_width, prune, max_per_frame, alphabet)
    texts = [d.text for d in free]
    invalid = [b for b, d in enumerate(free) if not grammar.valid(d.text)]
    per_frame = probs.shape[-1] if constrained_per_frame is None else constrained_per_frame
    keep = _frame_candidates(probs[invalid], 1e-6, per_frame) if invalid else None
    for i, b in enumerate(invalid):
        cands = [np.flatnonzero(keep[i, t]).tolist() for t in range(probs.shape[1])]
        found = _prefix_beam(probs[b], cands, 2 * beam_width, grammar.next_labels, grammar.labels_valid)
        if found:
            texts[b] = "".join(alphabet[c - 1] for c in found[0][0])
    out = list(free)
    changed = [b for b, (t, f) in enumerate(zip(texts, free)) if t != f.text]
    if changed:
        for b, s in zip(changed, _scored(probs[changed], [texts[b] for b in changed], alphabet)):
            if s.confidence * max_ratio >= free[b].confidence:
                out[b] = s
    return out


# --------------------------------------------------------------------------------------------
# Several cuts of one plate read as one: the string most probable across them.
# --------------------------------------------------------------------------------------------

def consensus_decode(probs: np.ndarray, views: int, decoder: str = "format", max_ratio: float = MAX_RATIO,
                     alphabet: str = ALPHABET, **options: Any) -> list[Decoded]:
    """One reading per group of `views` consecutive items of a (N * views, T, C) batch: several cuts of a plate.

    Each cut is decoded with `decoder`; every distinct string a plate's cuts gave is scored under all its cuts
    (exact CTC probability), and the plate reads as the string of highest mean probability over them, which is
    its confidence. A letter one cut lost at its edge is still in the others' frames. With the format decoder a
    valid plate at least 1/`max_ratio` as probable replaces a string that is not one, as `format_decode` does.
    Character confidences are those of the cut that gives the chosen string its highest probability.
    `options` go to the decoder of each cut.
    """
    probs = _check_views(_check_probs(probs), views)
    return consensus(probs, views, decode(probs, decoder, alphabet, **options), decoder, max_ratio, alphabet)


def _check_views(probs: np.ndarray, views: int) -> np.ndarray:
    if isinstance(views, bool) or not isinstance(views, int) or views < 1 or probs.shape[0] % views:
        raise ValueError(f"views must be a positive integer dividing the batch ({probs.shape[0]}), got {views!r}")
    return probs


def consensus(probs: np.ndarray, views: int, per_cut: Sequence[Decoded], decoder: str = "format",
              max_ratio: float = MAX_RATIO, alphabet: str = ALPHABET) -> list[Decoded]:
    """`consensus_decode` from each cut's reading already decoded (`per_cut`, one per item of the (N * views, T,
    C) batch `probs`, by `decoder`): for a caller that holds some cuts' readings and decodes only the others."""
    probs = _check_views(_check_probs(probs), views)
    if len(per_cut) != probs.shape[0]:
        raise ValueError(f"per_cut must hold one reading per item ({probs.shape[0]}), got {len(per_cut)}")
    if views == 1:
        return list(per_cut)
    plates = [list(dict.fromkeys(d.text for d in per_cut[g:g + views])) for g in range(0, len(per_cut), views)]
    rows = [g * views + k for g, texts in enumerate(plates) for _ in texts for k in range(views)]
    p = np.exp(ctc_log_likelihood(probs[rows], [t for texts in plates for t in texts for _ in range(views)],
                                  alphabet))
    grammar = _grammar(REGION_CODES, alphabet)
    out, start = [], 0
    for g, texts in enumerate(plates):
        by_cut = p[start:start + len(texts) * views].reshape(len(texts), views)
        start += len(texts) * views
        mean = by_cut.mean(axis=1)
        best = int(mean.argmax())
        if decoder == "format" and not grammar.valid(texts[best]):
            valid = [i for i, t in enumerate(texts) if grammar.valid(t) and mean[i] * max_ratio >= mean[best]]
            best = max(valid, key=lambda i: mean[i], default=best)
        row = g * views + int(by_cut[best].argmax())
        chars = char_confidences(probs[row:row + 1], [texts[best]], alphabet)[0]
        out.append(Decoded(texts[best], float(mean[best]), chars))
    return out


# --------------------------------------------------------------------------------------------
# One entry point for the three decoders, with comparable confidences.
# --------------------------------------------------------------------------------------------

DECODERS = ("greedy", "beam", "format")


def decode(probs: np.ndarray, decoder: str = "greedy", alphabet: str = ALPHABET, **options: Any) -> list[Decoded]:
    """Decode a (B, T, C) batch with "greedy", "beam" or "format"; `options` go to that decoder.

    Unlike `greedy_decode` (whose confidence is the best path's probability), every reading here
    carries the exact CTC probability of its whole string, so confidences compare across
    decoders and temperature calibration means the same thing for all of them.
    """
    probs = _check_probs(probs)
    if decoder == "greedy":
        if options:
            raise TypeError(f"greedy decoding takes no options, got {sorted(options)}")
        return _greedy_scored(probs, alphabet)[0]
    if decoder == "beam":
        return beam_decode(probs, alphabet=alphabet, **options)
    if decoder == "format":
        return format_decode(probs, alphabet=alphabet, **options)
    raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
