"""CTC decoding. The greedy tests below build per-frame probabilities by hand."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from anpr_ocr.core.alphabet import ALPHABET, BLANK
from anpr_ocr.reader.decode import (
    Decoded,
    beam_candidates,
    beam_decode,
    char_confidences,
    char_frames,
    consensus,
    consensus_decode,
    ctc_log_likelihood,
    decode,
    format_decode,
    greedy_decode,
    softmax,
)

C = len(ALPHABET) + 1  # 23 classes, blank at 0


def _cls(ch: str) -> int:
    return BLANK if ch == "-" else ALPHABET.index(ch) + 1


def _frames(path: str, probs: list[float]) -> np.ndarray:
    """(T, C) frames: frame t gives `path[t]` ("-" is blank) probability probs[t], the rest shared evenly."""
    assert len(path) == len(probs)
    out = np.empty((len(path), C), dtype=np.float64)
    for t, (ch, p) in enumerate(zip(path, probs)):
        out[t] = (1 - p) / (C - 1)
        out[t, _cls(ch)] = p
    return out


def _decode_one(path: str, probs: list[float]) -> Decoded:
    result = greedy_decode(_frames(path, probs)[None])
    assert len(result) == 1
    return result[0]


def test_greedy_repeats_are_merged():
    d = _decode_one("AA-111-BB", [0.9] * 9)
    assert d.text == "A1B"


def test_greedy_blank_separates_doubled_char():
    assert _decode_one("7-7", [0.9, 0.9, 0.9]).text == "77"
    assert _decode_one("77", [0.9, 0.9]).text == "7"  # no blank between: one character
    assert _decode_one("-77--7-", [0.9] * 7).text == "77"


def test_greedy_full_plate():
    path = "-A-1-22-3-B--C-7-7-"
    d = _decode_one(path, [0.8] * len(path))
    assert d.text == "A123BC77"  # "22" is one run: read once; a doubled 2 needs a blank between
    d = _decode_one("-A-1-2-2-3-B--C-7-7-", [0.8] * 20)
    assert d.text == "A1223BC77"
    assert len(d.char_confidences) == 9


def test_greedy_all_blank_is_empty():
    d = _decode_one("----", [0.9, 0.5, 0.8, 1.0])
    assert d.text == ""
    assert d.char_confidences == ()
    assert d.confidence == pytest.approx(0.9 * 0.5 * 0.8 * 1.0)


def test_greedy_confidence_is_product_of_best_path():
    probs = [0.6, 0.9, 0.5, 0.7, 0.5, 0.8, 0.95]
    d = _decode_one("AA-111-", probs)
    assert d.text == "A1"
    assert d.confidence == pytest.approx(0.6 * 0.9 * 0.5 * 0.7 * 0.5 * 0.8 * 0.95)  # 0.071820
    assert d.confidence == pytest.approx(0.07182)


def test_greedy_char_confidence_is_max_over_run():
    d = _decode_one("AA-111-", [0.6, 0.9, 0.5, 0.7, 0.5, 0.8, 0.95])
    assert d.char_confidences == pytest.approx((0.9, 0.8))


def test_greedy_doubled_char_keeps_separate_confidences():
    d = _decode_one("7-7", [0.9, 0.6, 0.4])
    assert d.text == "77"
    assert d.char_confidences == pytest.approx((0.9, 0.4))
    assert d.confidence == pytest.approx(0.9 * 0.6 * 0.4)


def test_greedy_argmax_not_threshold():
    # a frame where the character wins with only 0.3 still emits it
    d = _decode_one("-X-", [0.9, 0.3, 0.9])
    assert d.text == "X"
    assert d.char_confidences == pytest.approx((0.3,))


def test_greedy_batch_decodes_independently():
    paths = ["-A-1-2-3-B-C-7-7-", "-------------X---", "99999999999999999"]
    probs = [[0.7] * 17, [0.95] * 13 + [0.4] + [0.95] * 3, [0.5] * 17]
    batch = np.stack([_frames(p, q) for p, q in zip(paths, probs)])
    out = greedy_decode(batch)
    assert [d.text for d in out] == ["A123BC77", "X", "9"]
    for i, (p, q) in enumerate(zip(paths, probs)):
        assert out[i] == _decode_one(p, q)
    assert out[1].confidence == pytest.approx(0.95 ** 16 * 0.4)
    assert out[2].char_confidences == pytest.approx((0.5,))
    assert out[2].confidence == pytest.approx(0.5 ** 17)


def test_greedy_custom_alphabet():
    probs = np.zeros((1, 4, 3))
    probs[0, [0, 1, 2, 3], [1, 0, 2, 2]] = 1.0  # x, blank, y, y
    assert greedy_decode(probs, alphabet="xy")[0].text == "xy"


def test_greedy_from_softmaxed_logits():
    logits = np.full((2, 5, C), -5.0, dtype=np.float32)
    for t, ch in enumerate("B-7-7"):
        logits[0, t, _cls(ch)] = 1000.0  # large logits: softmax must stay finite
    logits[1, :, BLANK] = 3.0
    probs = softmax(logits)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)
    out = greedy_decode(probs)
    assert out[0].text == "B77"
    assert out[0].confidence == pytest.approx(1.0)
    assert out[1].text == ""
    e = np.exp(8.0)  # blank logit 3 vs 22 others at -5
    assert out[1].confidence == pytest.approx((e / (e + 22)) ** 5, rel=1e-5)


# ---- beam search and format-aware decoding (hand-built probabilities) ----------------------

def _bf_frames(spec: list[dict[str, float]]) -> np.ndarray:
    """(1, T, C) probabilities: frame t gives spec[t]'s classes ("-" blank) their probability and
    shares the rest evenly among the other classes."""
    out = np.empty((1, len(spec), C))
    for t, frame in enumerate(spec):
        rest = (1 - sum(frame.values())) / (C - len(frame))
        out[0, t] = rest
        for ch, p in frame.items():
            out[0, t, _cls(ch)] = p
    return out


def _bf_plate(text: str, p: float = 0.97, overrides: dict[int, dict[str, float]] | None = None) -> np.ndarray:
    """A clean CTC rendering of `text`: char, blank, char, blank ...; `overrides[i]` replaces char i's frame."""
    spec = []
    for i, ch in enumerate(text):
        spec.append((overrides or {}).get(i, {ch: p}))
        spec.append({"-": p})
    return _bf_frames(spec)


def test_beam_finds_most_probable_string_not_best_path():
    # best path is "--" (0.36) but "A" has 0.4*0.6 + 0.6*0.4 + 0.4*0.4 = 0.64 over its alignments
    probs = _bf_frames([{"-": 0.6, "A": 0.4}, {"-": 0.6, "A": 0.4}])
    probs[0, :, 1:] = 0.0
    probs[0, :, _cls("A")] = 0.4
    assert greedy_decode(probs)[0].text == ""
    got = beam_decode(probs, beam_width=4)[0]
    assert got.text == "A"
    assert got.confidence == pytest.approx(0.64)


def test_beam_matches_brute_force_on_a_small_alphabet():
    rng = np.random.default_rng(0)
    alphabet = "AB"
    strings = [""] + ["".join(s) for n in range(1, 6) for s in itertools.product(alphabet, repeat=n)]
    for _ in range(10):
        probs = softmax(rng.normal(size=(1, 5, 3)) * 2)
        exact = ctc_log_likelihood(np.repeat(probs, len(strings), 0), strings, alphabet)
        got = beam_decode(probs, beam_width=64, prune=0.0, alphabet=alphabet)[0]
        assert got.text == strings[int(np.argmax(exact))]
        assert np.log(got.confidence) == pytest.approx(exact.max())
        for text, log_p in beam_candidates(probs, beam_width=64, prune=0.0, alphabet=alphabet)[0]:
            assert log_p == pytest.approx(exact[strings.index(text)])


def _brute_force_likelihoods(frames: np.ndarray, alphabet: str) -> dict[str, float]:
    """p(text | frames) of every text some path yields, by enumerating all C**T paths of a (T, C) table:
    each path collapsed (repeats merged, then blanks dropped), its probability added to its text's."""
    out: dict[str, float] = {}
    for path in itertools.product(range(frames.shape[1]), repeat=frames.shape[0]):
        text = "".join(alphabet[c - 1] for i, c in enumerate(path) if c != BLANK and (i == 0 or c != path[i - 1]))
        out[text] = out.get(text, 0.0) + float(np.prod(frames[np.arange(len(path)), path]))
    return out


def _small_cases():
    """(frames (T, 4), every text over "ABC" of up to T characters, their brute-force probabilities)."""
    rng = np.random.default_rng(1)
    alphabet = "ABC"
    for frames, scale in ((1, 1.0), (3, 2.0), (4, 1.0), (5, 3.0), (5, 0.5)):
        probs = softmax(rng.normal(size=(frames, 4)) * scale)
        texts = ["".join(s) for n in range(frames + 1) for s in itertools.product(alphabet, repeat=n)]
        exact = _brute_force_likelihoods(probs, alphabet)
        yield probs, texts, np.array([exact.get(t, 0.0) for t in texts])


def test_ctc_likelihood_is_the_sum_over_all_alignments():
    for probs, texts, exact in _small_cases():
        assert exact.sum() == pytest.approx(1.0)  # every path yields some text of at most T characters
        got = ctc_log_likelihood(np.repeat(probs[None], len(texts), 0), texts, "ABC")
        possible = exact > 0
        assert possible.sum() < len(texts) or probs.shape[0] == 1  # "AA" needs 3 frames: not all are possible
        np.testing.assert_allclose(np.exp(got[possible]), exact[possible], rtol=1e-9)
        assert (got[~possible] <= -1e29).all()


def test_training_loss_is_the_per_character_mean_of_minus_log_likelihood():
    import torch

    from anpr_ocr.train.reader import ctc_loss

    for probs, texts, exact in _small_cases():
        labels = [["ABC".index(c) + 1 for c in t] for t in texts]
        logits = torch.from_numpy(np.log(np.repeat(probs[None], len(texts), 0)))
        loss = ctc_loss(logits, torch.tensor(sum(labels, []), dtype=torch.long), torch.tensor([len(t) for t in texts]))
        # torch's "mean": each item's -log p over its length (1 for an empty text), averaged over the batch;
        # an impossible text (p = 0) counts 0 (zero_infinity)
        per_item = [-np.log(p) / max(len(t), 1) if p > 0 else 0.0 for t, p in zip(texts, exact)]
        assert loss.item() == pytest.approx(np.mean(per_item), rel=1e-5)


def test_beam_char_confidences_agree_with_greedy():
    probs = softmax(np.random.default_rng(2).normal(size=(20, 32, C)) * 4)
    greedy = greedy_decode(probs)
    for g, c in zip(greedy, char_confidences(probs, [g.text for g in greedy])):
        assert g.char_confidences == pytest.approx(c)


def test_beam_batch_decodes_independently_and_clean_plates_read_the_same():
    a, b = _bf_plate("A123BC77"), _bf_plate("XY12377")
    b = np.concatenate([b, _bf_frames([{"-": 0.97}] * 2)], axis=1)  # same number of frames
    both = beam_decode(np.concatenate([a, b]))
    assert [d.text for d in both] == ["A123BC77", "XY12377"]
    assert [d.text for d in both] == [d.text for d in greedy_decode(np.concatenate([a, b]))]
    assert all(len(d.char_confidences) == len(d.text) for d in both)
    assert beam_decode(np.zeros((0, 32, C))) == []


def test_beam_skips_the_search_where_the_greedy_reading_holds_most_of_the_mass(monkeypatch):
    import anpr_ocr.reader.decode as decode_module

    sure = _bf_plate("A123BC77")  # greedy reading with p > 0.5: no other string can beat it
    unsure = _bf_frames([{"-": 0.6, "A": 0.4}, {"-": 0.6, "A": 0.4}])  # greedy "" (0.36) loses to "A"
    searched = []
    search = decode_module.beam_candidates
    monkeypatch.setattr(decode_module, "beam_candidates",
                        lambda probs, *a: searched.append(len(probs)) or search(probs, *a))
    both = np.concatenate([sure, np.pad(unsure, ((0, 0), (0, sure.shape[1] - 2), (0, 0)))])
    both[1, 2:, :] = 0.0
    both[1, 2:, BLANK] = 1.0
    got = beam_decode(both)
    assert searched == [1]  # only the unsure item was searched
    assert [d.text for d in got] == ["A123BC77", "A"]
    assert got[0].confidence == pytest.approx(np.exp(ctc_log_likelihood(sure, ["A123BC77"])[0]))
    assert got[0].char_confidences == greedy_decode(sure)[0].char_confidences


def test_beam_readings_carry_exact_probabilities_and_viterbi_confidences_whether_searched_or_not():
    probs = softmax(np.random.default_rng(5).normal(size=(40, 32, C)) * 2.5)  # many unsure items
    greedy = greedy_decode(probs)
    got = beam_decode(probs)
    texts = [d.text for d in got]
    assert any(g.confidence <= 0.5 and g.text == t for g, t in zip(greedy, texts))  # searched, kept greedy's
    assert any(g.text != t for g, t in zip(greedy, texts))  # searched, changed
    exact = np.exp(ctc_log_likelihood(probs, texts))
    for d, p, chars in zip(got, exact, char_confidences(probs, texts)):
        assert d.confidence == pytest.approx(p, rel=1e-9)
        assert d.char_confidences == pytest.approx(chars)


def test_beam_rejects_bad_arguments():
    with pytest.raises(ValueError):
        beam_decode(np.zeros((32, C)))
    with pytest.raises(ValueError):
        beam_decode(_bf_plate("A1"), beam_width=0)
    with pytest.raises(ValueError):
        decode(_bf_plate("A1"), "viterbi")


def test_format_fixes_o_and_zero_by_position():
    # the model slightly prefers the letter O where every plate format has a digit
    probs = _bf_plate("A103BC77", overrides={2: {"O": 0.55, "0": 0.42}})
    assert greedy_decode(probs)[0].text == "A1O3BC77"
    got = format_decode(probs)[0]
    assert got.text == "A103BC77"
    assert got.confidence == pytest.approx(float(np.exp(ctc_log_likelihood(probs, ["A103BC77"])[0])))
    # and the digit 0 where a private plate has a letter (not "0123BC77": that is a motorcycle plate)
    probs = _bf_plate("A123OC77", overrides={4: {"0": 0.55, "O": 0.42}})
    assert greedy_decode(probs)[0].text == "A1230C77"
    assert format_decode(probs)[0].text == "A123OC77"


def test_format_fixes_b_and_eight_by_position():
    probs = _bf_plate("A823BC77", overrides={1: {"B": 0.6, "8": 0.35}})
    assert beam_decode(probs)[0].text == "AB23BC77"
    assert format_decode(probs)[0].text == "A823BC77"


def test_format_keeps_an_invalid_reading_the_model_is_sure_of():
    probs = _bf_plate("12345678", p=0.99)
    assert format_decode(probs)[0].text == "12345678"
    probs = _bf_plate("A103BC77", overrides={2: {"O": 0.95, "0": 0.03}})  # O is 30x likelier than 0
    assert format_decode(probs, max_ratio=20)[0].text == "A1O3BC77"
    assert format_decode(probs, max_ratio=100)[0].text == "A103BC77"


def test_format_max_ratio_one_never_overrides_a_more_probable_reading():
    probs = _bf_plate("A103BC77", overrides={2: {"O": 0.55, "0": 0.42}})
    assert format_decode(probs, max_ratio=1.0)[0].text == "A1O3BC77"
    with pytest.raises(ValueError):
        format_decode(probs, max_ratio=0.5)


def test_format_prefers_real_region_codes():
    # 192 is not an issued region code, 152 is
    probs = _bf_plate("A123BC152", overrides={7: {"9": 0.6, "5": 0.37}})
    assert beam_decode(probs)[0].text == "A123BC192"
    assert format_decode(probs)[0].text == "A123BC152"
    assert format_decode(probs, regions=None)[0].text == "A123BC192"


def test_format_keeps_valid_readings_of_every_plate_type():
    for text in ["A123BC77", "AB12377", "AB1234777", "A1234199", "1234AB50"]:
        assert format_decode(_bf_plate(text))[0].text == text


def test_greedy_empty_batch():
    assert greedy_decode(np.zeros((0, 32, C))) == []


def test_greedy_single_frame():
    d = _decode_one("H", [0.6])
    assert d == Decoded("H", pytest.approx(0.6), (pytest.approx(0.6),))



@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=0, max_size=12), st.integers(1, 3), st.floats(0.2, 1.0))
def test_greedy_reads_any_blank_separated_path(text, run, p):
    # each character held for `run` frames, a blank between characters: greedy reads the text back
    path = "-" + "".join(ch * run + "-" for ch in text)
    d = _decode_one(path, [p] * len(path))
    assert d.text == text
    assert len(d.char_confidences) == len(text)
    assert d.confidence == pytest.approx(p ** len(path), rel=1e-9, abs=1e-300)


def test_ctc_likelihood_of_an_impossible_or_foreign_text():
    probs = softmax(np.random.default_rng(3).normal(size=(3, 3, C)))
    log_p = ctc_log_likelihood(probs, ["AAA", "A", ""])  # "AAA" needs 5 frames (blanks between repeats)
    assert log_p[0] <= -1e29 and -50 < log_p[1] < 0 and -50 < log_p[2] < 0
    with pytest.raises(ValueError, match="'AZ'"):
        ctc_log_likelihood(probs, ["AZ", "A", ""])


def test_ctc_likelihood_runs_on_one_torch_thread_and_restores_the_count(monkeypatch):
    """The batch's loop wakes no OpenMP worker (they would spin on after it); the caller's thread count stands
    after the call, also when the loss raises; the values are those of one item at a time."""
    import torch

    probs = softmax(np.random.default_rng(4).normal(size=(6, 12, C)) * 3)
    texts = ["A1", "", "BB", "A123BC77", "7", "AB"]
    one_by_one = np.concatenate([ctc_log_likelihood(probs[i:i + 1], texts[i:i + 1]) for i in range(6)])
    seen, ctc_loss, before = [], torch.ctc_loss, torch.get_num_threads()
    monkeypatch.setattr(torch, "ctc_loss", lambda *a: seen.append(torch.get_num_threads()) or ctc_loss(*a))
    torch.set_num_threads(2)
    try:
        np.testing.assert_array_equal(ctc_log_likelihood(probs, texts), one_by_one)
        assert seen == [1] and torch.get_num_threads() == 2
        monkeypatch.setattr(torch, "ctc_loss", lambda *a: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            ctc_log_likelihood(probs, texts)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_grammar_reads_label_tuples_like_strings():
    from anpr_ocr.reader.decode import PlateGrammar

    grammar = PlateGrammar()
    labels = lambda text: tuple(ALPHABET.index(c) + 1 for c in text)  # noqa: E731
    for text in ("A", "A1", "A123BC", "A123BC7", "A123BC77", "A123BC777", "1", "AB", "AB1234C", "A123B1", "A123BC77A"):
        assert grammar.labels_viable(labels(text)) == grammar.viable(text), text
        assert grammar.labels_viable(labels(text)) == grammar.labels_viable(labels(text))  # the same answer each time
    assert grammar.viable("A123BC77") and not grammar.viable("AB1234C")
    assert grammar.labels_valid(labels("A123BC77")) and not grammar.labels_valid(labels("A123BC"))


@pytest.mark.parametrize("regions", ["issued", "any", "none"])
def test_grammar_next_labels_are_the_labels_that_keep_a_prefix_viable(regions):
    # next_labels reads tables built from the layouts; the oracle tries every label with labels_viable
    from anpr_ocr.reader.decode import PlateGrammar

    grammar = PlateGrammar(**{"issued": {}, "any": {"regions": None}, "none": {"regions": ()}}[regions])
    labels = lambda text: tuple(ALPHABET.index(c) + 1 for c in text)  # noqa: E731
    rng = np.random.default_rng(5)
    prefixes = [labels(t) for t in ("", "A", "A12", "A123BC", "A123BC7", "A123BC77", "A123BC777", "AB123", "AB1234",
                                    "1234AB", "1234AB1", "A123BC1", "A123BC12")]
    prefixes += [tuple(int(c) for c in rng.integers(1, C, size=int(rng.integers(0, 10)))) for _ in range(400)]
    for prefix in prefixes * 2:  # the second pass answers from the cache
        oracle = frozenset(c for c in range(1, C) if grammar.labels_viable(prefix + (c,)))
        assert grammar.next_labels(prefix) == oracle, prefix
    digits = frozenset() if regions == "none" else frozenset(labels("0123456789"))
    assert grammar.next_labels(labels("A123BC")) == digits  # a region code starts
    assert grammar.next_labels(labels("A123BC777")) == frozenset()  # three digits end every region code


def test_grammar_accepts_exactly_the_strings_the_format_regexes_do():
    # two readings of formats.LAYOUTS: the grammar's character kinds and region sets, and the regexes
    from anpr_ocr.core.formats import FORMATS, LAYOUTS, REGION_CODES
    from anpr_ocr.reader.decode import PlateGrammar

    rng = np.random.default_rng(4)
    issued, anything = PlateGrammar(), PlateGrammar(regions=None)
    texts = ["A123BC77", "AB12377", "AB1234777", "A1234199", "1234AB50", "A123BC477", "1234AB7", "A123BC0000"]
    for _ in range(3000):
        kinds = rng.choice(list("LD"), size=int(rng.integers(4, 8))) if rng.random() < 0.5 else \
            rng.choice([layout.body for layout in LAYOUTS.values()])
        body = "".join(rng.choice(list(ALPHABET[10:] if k == "L" else ALPHABET[:10])) for k in kinds)
        texts.append(body + str(rng.integers(0, 10_000)).zfill(int(rng.integers(1, 5))))
    matches = lambda t: [k for k, p in FORMATS.items() if p.fullmatch(t)]  # noqa: E731
    assert sum(bool(matches(t)) for t in texts) > 300
    for text in texts:
        assert anything.valid(text) == bool(matches(text)), text
        assert issued.valid(text) == any(LAYOUTS[k].split(text)[1] in REGION_CODES for k in matches(text)), text
        assert issued.viable(text) or not issued.valid(text)


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    """A CTC path's labels: repeats merged, then blanks (0) dropped."""
    return tuple(c for i, c in enumerate(path) if c != BLANK and (i == 0 or c != path[i - 1]))


def test_ctc_likelihood_and_char_confidences_match_brute_force():
    """Over every path of 5 frames and 4 classes: the string probability is the sum of its paths'
    probabilities; each character's confidence is its highest frame probability along the most
    probable path that reads the string, and its frames the first and last it holds on that path."""
    rng = np.random.default_rng(7)
    alphabet = "ABC"
    paths = list(itertools.product(range(4), repeat=5))
    for _ in range(15):
        probs = softmax(rng.normal(size=(1, 5, 4)) * rng.uniform(0.5, 4))
        p = probs[0]
        by_text: dict[tuple[int, ...], list[tuple[float, tuple[int, ...]]]] = {}
        for path in paths:
            by_text.setdefault(_collapse(path), []).append((float(np.prod(p[np.arange(5), path])), path))
        for labels, scored in by_text.items():
            text = "".join(alphabet[c - 1] for c in labels)
            assert ctc_log_likelihood(probs, [text], alphabet)[0] == pytest.approx(
                np.log(sum(q for q, _ in scored)), abs=1e-9)
            _, best = max(scored)
            expected, frames, k = [0.0] * len(labels), [[] for _ in labels], -1
            for t, c in enumerate(best):
                if c != BLANK and (t == 0 or c != best[t - 1]):
                    k += 1
                if c != BLANK:
                    expected[k] = max(expected[k], p[t, c])
                    frames[k].append(t)
            assert char_confidences(probs, [text], alphabet)[0] == pytest.approx(tuple(expected), abs=1e-12)
            assert char_frames(probs, [text], alphabet)[0] == tuple((f[0], f[-1]) for f in frames)


# ---- several cuts of one plate read as one ---------------------------------------------------

def test_consensus_picks_the_string_of_highest_mean_probability_over_the_cuts():
    """Against brute force over every path: each group's candidates are its cuts' greedy readings, and the
    reading is the candidate whose probability, averaged over the group's cuts, is highest."""
    rng = np.random.default_rng(3)
    alphabet = "ABC"
    for views in (2, 3):
        probs = softmax(rng.normal(size=(4 * views, 4, 4)) * rng.uniform(0.5, 3))
        got = consensus_decode(probs, views, "greedy", alphabet=alphabet)
        assert len(got) == 4
        for g, reading in enumerate(got):
            cuts = probs[g * views:(g + 1) * views]
            exact = [_brute_force_likelihoods(p, alphabet) for p in cuts]
            candidates = {d.text for d in greedy_decode(cuts, alphabet)}
            mean = {t: np.mean([e.get(t, 0.0) for e in exact]) for t in candidates}
            assert reading.text == max(mean, key=mean.get)
            assert reading.confidence == pytest.approx(mean[reading.text], rel=1e-9)


def test_consensus_recovers_a_letter_one_cut_lost_at_its_edge():
    lost = np.concatenate([_bf_frames([{"-": 0.97}] * 2), _bf_plate("123BC77")], axis=1)  # first letter cut off
    whole = _bf_plate("A123BC77", p=0.8)
    probs = np.concatenate([lost, whole, whole])
    assert decode(lost, "format")[0].text == "123BC77"
    got = consensus_decode(probs, 3, "format")[0]
    assert got.text == "A123BC77"
    assert got.char_confidences == char_confidences(whole, ["A123BC77"])[0]


def test_consensus_prefers_a_valid_plate_within_the_format_ratio():
    # an invalid string most probable on average, a valid one within 20x: the format decoder's choice
    invalid, valid = _bf_plate("A1O3BC77"), _bf_plate("A103BC77")
    probs = np.concatenate([invalid, invalid, valid])
    mean = np.mean(np.exp([ctc_log_likelihood(probs, [t] * 3) for t in ("A1O3BC77", "A103BC77")]), axis=1)
    assert mean[0] > mean[1] > mean[0] / 20
    assert consensus_decode(probs, 3, "format")[0].text == "A103BC77"
    assert consensus_decode(probs, 3, "beam")[0].text == "A1O3BC77"


def test_consensus_of_one_view_is_the_decoder_and_views_must_divide_the_batch():
    probs = np.concatenate([_bf_plate("A123BC77"), _bf_plate("B456EK19")])
    assert consensus_decode(probs, 1, "format") == decode(probs, "format")
    for views in (0, 3, 1.0, True):
        with pytest.raises(ValueError, match="views"):
            consensus_decode(probs, views)


def test_consensus_of_readings_had_is_consensus_decode_and_picks_among_them():
    """Given each cut's reading, the consensus is consensus_decode's; its candidates are the readings given (one
    a cut, checked), each scored exactly over the plate's cuts."""
    probs = np.concatenate([_bf_plate("A1O3BC77"), _bf_plate("A1O3BC77"), _bf_plate("A103BC77"),
                            _bf_plate("B456EK19"), _bf_plate("B456EK19", p=0.7), _bf_plate("B456EK19")])
    per_cut = decode(probs, "format")
    assert consensus(probs, 3, per_cut, "format") == consensus_decode(probs, 3, "format")
    only = [Decoded("A103BC77", 0.0, ())] * 3 + per_cut[3:]  # every cut of the first plate said A103BC77
    got = consensus(probs, 3, only, "format")[0]
    mean = float(np.exp(ctc_log_likelihood(probs[:3], ["A103BC77"] * 3)).mean())
    assert (got.text, got.confidence) == ("A103BC77", pytest.approx(mean, rel=1e-12))
    with pytest.raises(ValueError, match="per_cut"):
        consensus(probs, 3, per_cut[:5])
    with pytest.raises(ValueError, match="views"):
        consensus(probs, 4, per_cut)


def test_constrained_search_starts_only_the_most_probable_classes_a_frame():
    """A plate whose last digit sits ninth in its frame, under eight letters: every class above 1e-6 reaches it
    (the valid plate, at half the free reading's probability, replaces it), the eight most probable do not."""
    frames = []
    for c in "A123BC7":
        frames += [{c: 1.0}, {}]  # the character, then a blank
    letters = [c for c in ALPHABET if c.isalpha()][:9]
    frames += [{**{c: 0.1 for c in letters}, "7": 0.05}, {}]
    probs = np.full((1, len(frames), len(ALPHABET) + 1), 1e-9)
    for t, frame in enumerate(frames):
        for c, p in frame.items():
            probs[0, t, ALPHABET.index(c) + 1] = p
        probs[0, t, BLANK] = max(1.0 - sum(frame.values()), 0.0) + 1e-9
    probs /= probs.sum(axis=-1, keepdims=True)
    assert format_decode(probs, constrained_per_frame=None)[0].text == "A123BC77"
    assert format_decode(probs, constrained_per_frame=8)[0].text == "A123BC7" + letters[0]
    assert format_decode(probs)[0].text == format_decode(probs, constrained_per_frame=8)[0].text
