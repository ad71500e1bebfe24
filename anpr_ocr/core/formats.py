"""GOST R 50577 plate layouts: one table, and what the package derives from it.

`LAYOUTS` is the only place a layout is written down. From it come the regular expressions over the
Latin look-alike alphabet (`FORMATS`), `plate_type` and `format_key`, the format-aware decoder's
grammar (`decode.PlateGrammar`) and the layouts the renderer draws (`synth`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .alphabet import LETTERS


@dataclass(frozen=True)
class Layout:
    """One plate layout: the body's characters ("L" letter, "D" digit) followed by a region code.

    `paper` and `ink` are the luminances the renderer draws the plate in (it renders grey), and
    `render_share` how often it draws this layout relative to the others; 0 means it is never drawn.
    """

    name: str
    body: str
    region_lengths: tuple[int, ...] = (2, 3)
    paper: int = 245  # white
    ink: int = 20  # black
    render_share: float = 0.0

    @property
    def pattern(self) -> str:
        """The layout as a regular expression over the Latin look-alikes."""
        chars = "".join(f"[{LETTERS}]" if c == "L" else r"\d" for c in self.body)
        region = "|".join(rf"\d{{{n}}}" for n in self.region_lengths)
        return rf"{chars}(?:{region})"

    def split(self, text: str) -> tuple[str, str]:
        """`text` as (body, region code), cut after this layout's body."""
        return text[:len(self.body)], text[len(self.body):]


# The order matters: plate_type names the first layout that fits (taxi before trailer), and the renderer
# draws its layouts' shares in this order. Luminance of taxi yellow BGR (20, 200, 245) 192, of police
# blue BGR (150, 70, 15) 62, with light ink. The motorcycle plate is square; the renderer draws only
# the long 520 x 112 mm plate, so never a motorcycle one.
LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    Layout("private", "LDDDLL", render_share=0.76),
    Layout("taxi", "LLDDD", paper=192, render_share=0.08),
    Layout("trailer", "LLDDDD", render_share=0.08),
    Layout("police", "LDDDD", paper=62, ink=235, render_share=0.08),
    Layout("motorcycle", "DDDDLL"),
)}

# Region codes in use: every two-digit code and the three-digit codes issued so far (extend the list
# as new ones appear: the format-aware decoder treats an unlisted region as unlikely, not impossible).
REGION_CODES: tuple[str, ...] = tuple(f"{n:02d}" for n in range(1, 100)) + tuple(
    "102 113 116 121 122 123 124 125 126 133 134 136 137 138 142 147 150 152 154 155 156 158 159 161 163 "
    "164 173 174 177 178 180 181 184 186 188 190 193 196 197 198 199 277 299 702 716 725 750 754 761 763 "
    "774 777 790 797 799 977".split()
)

FORMATS: dict[str, re.Pattern[str]] = {name: re.compile(layout.pattern) for name, layout in LAYOUTS.items()}


def plate_type(text: str) -> str | None:
    """The GOST format a plate string fits ("private", "taxi", ...), or None if it fits none.

    Two letters and six digits fit both taxi (3-digit region) and trailer (2-digit region): the
    reading whose region code is issued wins, taxi when both are.
    """
    kinds = [name for name, pattern in FORMATS.items() if pattern.fullmatch(text)]
    issued = [k for k in kinds if LAYOUTS[k].split(text)[1] in REGION_CODES]
    return (issued or kinds or [None])[0]


def format_key(text: str) -> str:
    """A short key for grouping results: plate type and region length, e.g. "private/3"."""
    kind = plate_type(text)
    if kind is None:
        return "other"
    return f"{kind}/{len(LAYOUTS[kind].split(text)[1])}"
