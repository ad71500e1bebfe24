"""The plate alphabet: digits plus the 12 Cyrillic letters that have Latin look-alikes.

Russian plates use only А В Е К М Н О Р С Т У Х. Labels arrive in either script; the model
works in the Latin look-alikes and can give Cyrillic back on request.
"""

from __future__ import annotations

DIGITS = "0123456789"
LETTERS = "ABEKMHOPCTYX"
ALPHABET = DIGITS + LETTERS  # class i + 1 in the model; class 0 is the CTC blank
BLANK = 0
OUTPUT_ALPHABETS = ("latin", "cyrillic")  # readings in Latin look-alikes, or in the Cyrillic printed on plates

CYRILLIC_LETTERS = "АВЕКМНОРСТУХ"
_TO_LATIN = str.maketrans(CYRILLIC_LETTERS + CYRILLIC_LETTERS.lower() + LETTERS.lower(),
                          LETTERS + LETTERS + LETTERS)
_TO_CYRILLIC = str.maketrans(LETTERS, CYRILLIC_LETTERS)


class LabelError(ValueError):
    """A label holds a character that no Russian plate uses."""


def normalise_label(text: str) -> str:
    """Map a label in Cyrillic or Latin, any case, with spaces or dashes, to Latin look-alikes.

    Raises LabelError naming the bad characters when something outside the alphabet remains.
    """
    latin = str(text).translate(_TO_LATIN).replace(" ", "").replace("-", "").replace("_", "")
    bad = sorted({c for c in latin if c not in ALPHABET})
    if not latin or bad:
        raise LabelError(f"label {text!r} has characters outside the plate alphabet: {bad or 'empty'}")
    return latin


def to_cyrillic(text: str) -> str:
    """Latin look-alikes to the Cyrillic letters printed on the plate ("A123BC77" -> "А123ВС77")."""
    return text.translate(_TO_CYRILLIC)


def encode(text: str) -> list[int]:
    """Label to class indices (1-based; 0 is the CTC blank)."""
    return [ALPHABET.index(c) + 1 for c in text]
