from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.core.metrics import (
    GAP,
    by_length,
    cer,
    confusion_counts,
    confusion_matrix,
    edit_distance,
    exact_match,
    grouped,
    wilson_interval,
)


def test_exact_match_and_cer_hand_computed():
    truths = ["A123BC77", "B456EK199"]
    preds = ["A123BC77", "B456EK19"]
    assert exact_match(truths, preds) == 0.5
    assert cer(truths, preds) == pytest.approx(1 / 17)  # one deletion over 8 + 9 truth chars


def test_perfect_and_all_wrong():
    assert exact_match(["A123BC77"], ["A123BC77"]) == 1.0
    assert cer(["A123BC77"], ["A123BC77"]) == 0.0
    assert exact_match(["A123BC77", "X900XH90"], ["", "X900XH9O"]) == 0.0
    # empty prediction: 8 deletions; one substitution: 1 -> 9 edits over 16 chars
    assert cer(["A123BC77", "X900XH90"], ["", "X900XH9O"]) == pytest.approx(9 / 16)


def test_cer_counts_insertions_and_can_exceed_one():
    assert cer(["A1"], ["A1XX"]) == pytest.approx(1.0)
    assert cer(["A"], ["BCD"]) == pytest.approx(3.0)


def test_confusion_counts_substitution_insertion_deletion():
    truths = ["A1", "B2", "C34"]
    preds = ["A7", "B25", "C3"]  # 1->7 substituted, 5 inserted, 4 deleted
    assert confusion_counts(truths, preds) == Counter({
        ("A", "A"): 1, ("1", "7"): 1,
        ("B", "B"): 1, ("2", "2"): 1, (GAP, "5"): 1,
        ("C", "C"): 1, ("3", "3"): 1, ("4", GAP): 1,
    })


def test_confusion_counts_accumulate_over_plates():
    counts = confusion_counts(["77", "O7"], ["77", "07"])
    assert counts == Counter({("7", "7"): 3, ("O", "0"): 1})


def test_confusion_matrix_cells():
    truths = ["A1", "B2", "C34"]
    preds = ["A7", "B25", "C3"]
    matrix, labels = confusion_matrix(truths, preds, ALPHABET)
    assert matrix.shape == (23, 23)
    assert matrix.dtype == np.int64
    assert labels == list(ALPHABET) + [GAP]
    i = labels.index
    assert matrix[i("1"), i("7")] == 1
    assert matrix[i(GAP), i("5")] == 1
    assert matrix[i("4"), i(GAP)] == 1
    assert matrix[i("A"), i("A")] == matrix[i("3"), i("3")] == 1
    assert matrix.sum() == 8
    assert np.trace(matrix) == 5  # A, B, 2, C, 3 read right
    assert matrix[i("7"), i("1")] == 0  # rows are truth, columns prediction


TRUTHS = ["A123BC77", "B456EK199", "C789MH50", "AB12377"]
PREDS = ["A123BC77", "B456EK19", "C789MH5", "AB12377"]


def test_grouped_by_format():
    out = grouped(TRUTHS, PREDS)
    assert list(out) == ["private/2", "private/3", "taxi/2"]
    assert out["private/2"] == {"n": 2, "exact_match": 0.5, "cer": pytest.approx(1 / 16)}
    assert out["private/3"] == {"n": 1, "exact_match": 0.0, "cer": pytest.approx(1 / 9)}
    assert out["taxi/2"] == {"n": 1, "exact_match": 1.0, "cer": 0.0}


def test_grouped_puts_unknown_formats_in_other():
    out = grouped(["A123BC77", "12345"], ["A123BC77", "1234"])
    assert out["other"] == {"n": 1, "exact_match": 0.0, "cer": pytest.approx(1 / 5)}


def test_by_length():
    out = by_length(TRUTHS, PREDS)
    assert list(out) == ["7", "8", "9"]
    assert out["7"] == {"n": 1, "exact_match": 1.0, "cer": 0.0}
    assert out["8"] == {"n": 2, "exact_match": 0.5, "cer": pytest.approx(1 / 16)}
    assert out["9"] == {"n": 1, "exact_match": 0.0, "cer": pytest.approx(1 / 9)}


@pytest.mark.parametrize("fn", [exact_match, cer, confusion_counts, grouped, by_length])
def test_length_mismatch_raises(fn):
    with pytest.raises(ValueError, match="equally many"):
        fn(["A123BC77", "X900XH90"], ["A123BC77"])


@pytest.mark.parametrize("fn", [exact_match, cer, confusion_counts, grouped, by_length])
def test_empty_raises(fn):
    with pytest.raises(ValueError):
        fn([], [])


def test_confusion_matrix_checks_lengths():
    with pytest.raises(ValueError):
        confusion_matrix(["A1"], [], ALPHABET)


@pytest.mark.parametrize("k, n, low, high", [(97, 102, 0.890342, 0.978882), (98, 102, 0.903475, 0.984646),
                                             (0, 10, 0.0, 0.277533), (10, 10, 0.722467, 1.0),
                                             (3, 4, 0.300642, 0.954413)])
def test_wilson_interval_matches_scipy(k, n, low, high):
    # reference values: scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-6)
    assert got[0] <= k / n <= got[1]


@pytest.mark.parametrize("k, n", [(5, 4), (-1, 4), (0, 0)])
def test_wilson_interval_rejects_impossible_counts(k, n):
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(k, n)


@settings(deadline=None)  # the first example imports rapidfuzz, which can take longer than a deadline on a busy CPU
@given(st.text(alphabet="ABC12", max_size=9), st.text(alphabet="ABC12", max_size=9))
def test_edit_distance_agrees_with_rapidfuzz(a, b):
    rapidfuzz = pytest.importorskip("rapidfuzz")
    assert edit_distance(a, b) == rapidfuzz.distance.Levenshtein.distance(a, b)


def test_edit_distance_hand_computed():
    assert edit_distance("", "A12") == 3
    assert edit_distance("KITTEN", "SITTING") == 3
    assert edit_distance("A123BC77", "A123BC777") == 1
