import re

import pytest

from anpr_ocr.core.formats import FORMATS, REGION_CODES, format_key, plate_type


@pytest.mark.parametrize("text, kind", [
    ("A123BC77", "private"),
    ("A123BC777", "private"),
    ("AB12377", "taxi"),
    ("AB123777", "taxi"),
    ("AB1234777", "trailer"),
    ("A123477", "police"),
    ("A1234777", "police"),
    ("1234AB77", "motorcycle"),
    ("1234AB777", "motorcycle"),
])
def test_plate_type_each_format(text, kind):
    assert plate_type(text) == kind


@pytest.mark.parametrize("text", [
    "", "A123BC7", "A123BC7777", "A12BC77", "Z123BC77", "a123bc77", "A123BC77 ", "ABCDEFGH", "12345678",
    "А123ВС77",  # Cyrillic: formats are over the Latin look-alikes only
])
def test_plate_type_none_for_junk(text):
    assert plate_type(text) is None


@pytest.mark.parametrize("text, key", [
    ("A123BC77", "private/2"),
    ("A123BC777", "private/3"),
    ("AB12377", "taxi/2"),
    ("AB1234777", "trailer/3"),
    ("A1234777", "police/3"),
    ("1234AB77", "motorcycle/2"),
    ("junk", "other"),
])
def test_format_key(text, key):
    assert format_key(text) == key


def test_formats_names():
    assert set(FORMATS) == {"private", "taxi", "trailer", "police", "motorcycle"}


def test_region_codes():
    assert len(REGION_CODES) == len(set(REGION_CODES))
    assert REGION_CODES[0] == "01" and "99" in REGION_CODES
    assert "777" in REGION_CODES and "197" in REGION_CODES
    assert all(c.isdigit() and len(c) in (2, 3) for c in REGION_CODES)


def test_real_val_labels_fit_a_format(val_samples):
    kinds = [plate_type(s.text) for s in val_samples]
    assert kinds.count(None) == 0
    assert kinds.count("private") == 101  # the VKCV val crops are all private cars


def test_taxi_and_trailer_are_told_apart_by_length():
    assert plate_type("AB12377") == "taxi"  # LL + 5 digits: only a taxi plate with a 2-digit region
    assert plate_type("AB1234777") == "trailer"  # LL + 7 digits: only a trailer with a 3-digit region


def test_ambiguous_taxi_trailer_prefers_an_issued_region():
    assert "477" not in REGION_CODES and "77" in REGION_CODES
    assert plate_type("AB123477") == "trailer"
    assert format_key("AB123477") == "trailer/2"


def test_a_layout_reads_its_region_lengths_and_splits_its_body_off():
    from anpr_ocr.core.formats import LAYOUTS, Layout

    short = re.compile(Layout("x", "LD", region_lengths=(2, 4)).pattern)
    assert [bool(short.fullmatch(t)) for t in ("A112", "A1123", "A11234", "1112")] == [True, False, True, False]
    assert LAYOUTS["private"].split("A123BC777") == ("A123BC", "777")
    assert LAYOUTS["taxi"].split("AB12377") == ("AB123", "77")
