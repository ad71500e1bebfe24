"""The consensus of a track's readings (anpr_ocr.video.consensus) against values computed by hand.

With K classes a reading that puts x at a position with confidence p gives x the log-probability
log p and every other class log((1 - p) / (K - 1)); a position's score of a character is the sum over
the readings. The cases use K = 11, so (1 - p) / (K - 1) = (1 - p) / 10.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest

from anpr_ocr.video.consensus import CLASSES, best_frame, majority, position_scores, posterior, weighted


class R(NamedTuple):
    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def test_a_sure_reading_outweighs_two_unsure_ones():
    """Position 3: '1' scores log .99 + 2 log(.7/10) = -5.329, '7' log(.01/10) + 2 log .3 = -9.316: '1'.
    The majority says AB7; the best frame AB1."""
    rs = [R("AB1", 0.9, (0.99, 0.99, 0.99)), R("AB7", 0.2, (0.99, 0.99, 0.3)), R("AB7", 0.2, (0.99, 0.99, 0.3))]
    scores = position_scores(rs, 3, classes=11)
    assert scores[2]["1"] == pytest.approx(math.log(0.99) + 2 * math.log(0.07))
    assert scores[2]["7"] == pytest.approx(math.log(0.001) + 2 * math.log(0.3))
    assert scores[2][""] == pytest.approx(math.log(0.001) + 2 * math.log(0.07))  # a character nobody read
    assert weighted(rs, classes=11).text == "AB1"
    assert majority(rs) == ("AB7", pytest.approx(2 / 3))
    assert best_frame(rs) == ("AB1", 0.9)


def test_agreeing_unsure_readings_outweigh_one_fairly_sure_one():
    """Position 3: '1' log .9 + log(.4/10) + log(.45/10) = -6.425, '7' log(.01) + log .6 + log .55 = -5.714: '7'."""
    rs = [R("AB1", 0.7, (0.9, 0.9, 0.9)), R("AB7", 0.5, (0.9, 0.9, 0.6)), R("AB7", 0.5, (0.9, 0.9, 0.55))]
    assert weighted(rs, classes=11).text == "AB7"
    assert best_frame(rs).text == "AB1"


def test_characters_are_voted_where_no_frame_read_the_whole_string():
    """A81 (middle .3) and AB7 (last .3): B beats 8 (log .9 + log(.07) against log .3 + log .01) and 1 beats 7."""
    rs = [R("A81", 0.3, (0.9, 0.3, 0.9)), R("AB7", 0.3, (0.9, 0.9, 0.3))]
    assert weighted(rs, classes=11).text == "AB1"


def test_one_reading_keeps_its_text_and_its_characters_confidence():
    """One reading: P(x) at a position = p / (p + (K-1) * (1-p)/(K-1)) = p, so the confidence is the product."""
    v = weighted([R("AB1", 0.5, (0.9, 0.8, 0.7))])
    assert v.text == "AB1"
    assert v.confidence == pytest.approx(0.9 * 0.8 * 0.7)


def test_confidence_is_the_tempered_posterior_times_the_length_share():
    """Two readings AB1 (.9, .9, .9) and AB7 (.9, .9, .6), both 0.5 sure, K = 11, and a 0.25-sure reading of
    length 2. Length 3 carries 1.0 of 1.25. Positions 1-2: both agree at .9: averaged log-score of the
    character log .9, of any other log .01: P = .9 / (.9 + 10 * .01) = .9. Position 3: '1' averages
    (log .9 + log .04) / 2, '7' (log .01 + log .6) / 2, the 9 others (log .01 + log .04) / 2."""
    rs = [R("AB1", 0.5, (0.9, 0.9, 0.9)), R("AB7", 0.5, (0.9, 0.9, 0.6)), R("XY", 0.25, (0.5, 0.5))]
    v = weighted(rs, classes=11)
    assert v.text == "AB1"  # .9 * .04 = .036 beats .01 * .6 = .006
    one, seven, other = math.sqrt(0.9 * 0.04), math.sqrt(0.01 * 0.6), math.sqrt(0.01 * 0.04)
    third = one / (one + seven + 9 * other)
    assert v.confidence == pytest.approx(1.0 / 1.25 * 0.9 * 0.9 * third)
    assert posterior(position_scores(rs, 3, 11)[2], "7", 2, 11) == pytest.approx(seven / (one + seven + 9 * other))


def test_the_length_with_the_most_confidence_wins():
    rs = [R("A123BC77", 0.9, (0.9,) * 8), R("A123BC777", 0.6, (0.9,) * 9), R("A123BC777", 0.6, (0.9,) * 9)]
    assert weighted(rs).text == "A123BC777"  # 1.2 against 0.9
    assert weighted(rs[:2]).text == "A123BC77"


def test_a_valid_plate_is_preferred_to_a_better_scored_invalid_string():
    """A123BCB7 scores higher at position 7 (B at .8 against 7 at .5) but is no plate; A123BC77 is one."""
    rs = [R("A123BC77", 0.5, (0.9,) * 6 + (0.5, 0.9)), R("A123BCB7", 0.6, (0.9,) * 6 + (0.8, 0.9))]
    assert weighted(rs, classes=CLASSES).text == "A123BC77"
    # ... while among invalid strings alone the score decides
    assert weighted([R("A12XBCB7", 0.5, (0.9,) * 6 + (0.5, 0.9)), R("A12XBCC7", 0.6, (0.9,) * 6 + (0.8, 0.9))]
                    ).text == "A12XBCC7"


def test_missing_character_confidences_fall_back_to_the_string_confidence():
    v = weighted([R("AB1", 0.6, ())], classes=11)
    assert v == ("AB1", pytest.approx(0.6 ** 3))


def test_ties_and_empty_input():
    rs = [R("AB1", 0.5, (0.9,) * 3), R("AB7", 0.5, (0.9,) * 3)]
    assert majority(rs).text == "AB1" and best_frame(rs).text == "AB1"  # the first read of equals
    for method in (weighted, best_frame, majority):
        assert method([]) == ("", 0.0)
        assert method([R("", 0.9, ())]) == ("", 0.0)
