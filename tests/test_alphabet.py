import pytest
from hypothesis import given, strategies as st

from anpr_ocr.core.alphabet import (
    ALPHABET,
    BLANK,
    CYRILLIC_LETTERS,
    LETTERS,
    LabelError,
    encode,
    normalise_label,
    to_cyrillic,
)


def test_alphabet_layout():
    assert ALPHABET == "0123456789ABEKMHOPCTYX"
    assert len(ALPHABET) == 22
    assert BLANK == 0
    assert len(CYRILLIC_LETTERS) == len(LETTERS) == 12


def test_cyrillic_lowercase_becomes_latin_uppercase():
    assert normalise_label("а123вс77") == "A123BC77"  # Cyrillic lower-case


def test_cyrillic_uppercase_becomes_latin():
    assert normalise_label("А123ВС77") == "A123BC77"
    assert normalise_label("АВЕКМНОРСТУХ") == LETTERS


def test_latin_lowercase_and_separators():
    assert normalise_label("a123bc77") == "A123BC77"
    assert normalise_label("A 123 BC-77") == "A123BC77"
    assert normalise_label("x_900_xh_90") == "X900XH90"


def test_mixed_scripts():
    # Latin A, Cyrillic В, Latin c
    assert normalise_label("A123Вc777") == "A123BC777"


def test_already_normal_is_unchanged():
    assert normalise_label("O242PY96") == "O242PY96"


def test_bad_characters_are_named():
    with pytest.raises(LabelError) as info:
        normalise_label("A123ZZ77")
    message = str(info.value)
    assert "Z" in message and "A123ZZ77" in message


def test_several_bad_characters_listed_sorted():
    with pytest.raises(LabelError, match=r"\['D', 'Z'\]"):
        normalise_label("Z123DZ77")


def test_cyrillic_letter_without_latin_lookalike_is_rejected():
    with pytest.raises(LabelError, match="Д"):
        normalise_label("Д123ВС77")


@pytest.mark.parametrize("text", ["", "   ", "--"])
def test_empty_label_rejected(text):
    with pytest.raises(LabelError, match="empty"):
        normalise_label(text)


def test_label_error_is_value_error():
    assert issubclass(LabelError, ValueError)


def test_to_cyrillic():
    out = to_cyrillic("A123BC77")
    assert out == "А123ВС77"
    assert out != "A123BC77"  # really different code points
    assert [ord(c) for c in out[:1]] == [0x0410]
    assert to_cyrillic(LETTERS) == CYRILLIC_LETTERS
    assert normalise_label(to_cyrillic("X900XH90")) == "X900XH90"


def test_encode():
    assert encode("0") == [1]
    assert encode("9") == [10]
    assert encode("A") == [11]
    assert encode("X") == [22]
    assert encode("A123BC77") == [11, 2, 3, 4, 12, 19, 8, 8]
    assert encode("") == []


plates = st.text(alphabet=ALPHABET, min_size=1, max_size=12)


@given(plates)
def test_normalise_is_identity_on_the_alphabet(text):
    assert normalise_label(text) == text


@given(plates)
def test_cyrillic_and_lowercase_round_trip(text):
    assert normalise_label(to_cyrillic(text)) == text
    assert normalise_label(to_cyrillic(text).lower()) == text
    assert normalise_label(text.lower()) == text


@given(plates)
def test_encode_is_one_based_index(text):
    codes = encode(text)
    assert len(codes) == len(text)
    assert all(1 <= c <= len(ALPHABET) for c in codes)
    assert "".join(ALPHABET[c - 1] for c in codes) == text
