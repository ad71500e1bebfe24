"""GOST R 50577 plate formats, as regular expressions over the Latin look-alike alphabet."""

from __future__ import annotations

import re

_L = "[ABEKMHOPCTYX]"
_REGION = r"\d{2,3}"

_BODY_LENGTH = {"private": 6, "taxi": 5, "trailer": 6, "police": 5, "motorcycle": 6}

# Region codes in use: every two-digit code and the three-digit codes issued so far (extend the list
# as new ones appear: the format-aware decoder treats an unlisted region as unlikely, not impossible).
REGION_CODES: tuple[str, ...] = tuple(f"{n:02d}" for n in range(1, 100)) + tuple(
    "102 113 116 121 122 123 124 125 126 133 134 136 137 138 142 147 150 152 154 155 156 158 159 161 163 "
    "164 173 174 177 178 180 181 184 186 188 190 193 196 197 198 199 277 299 702 716 725 750 754 761 763 "
    "774 777 790 797 799 977".split()
)

FORMATS: dict[str, re.Pattern[str]] = {
    "private": re.compile(rf"{_L}\d{{3}}{_L}{{2}}{_REGION}"),
    "taxi": re.compile(rf"{_L}{{2}}\d{{3}}{_REGION}"),
    "trailer": re.compile(rf"{_L}{{2}}\d{{4}}{_REGION}"),
    "police": re.compile(rf"{_L}\d{{4}}{_REGION}"),
    "motorcycle": re.compile(rf"\d{{4}}{_L}{{2}}{_REGION}"),
}


def plate_type(text: str) -> str | None:
    """The GOST format a plate string fits ("private", "taxi", ...), or None if it fits none.

    Two letters and six digits fit both taxi (3-digit region) and trailer (2-digit region): the
    reading whose region code is issued wins, taxi when both are.
    """
    kinds = [name for name, pattern in FORMATS.items() if pattern.fullmatch(text)]
    issued = [k for k in kinds if text[_BODY_LENGTH[k]:] in REGION_CODES]
    return (issued or kinds or [None])[0]


def format_key(text: str) -> str:
    """A short key for grouping results: plate type and region length, e.g. "private/3"."""
    kind = plate_type(text)
    if kind is None:
        return "other"
    return f"{kind}/{len(text) - _BODY_LENGTH[kind]}"
