"""Synthetic Russian plates after GOST R 50577, rendered to look like real camera crops.

A plate is laid out in millimetres at 1 px/mm on a grey canvas that also holds its surroundings
(car body, plate holder, dealer text, often a frame over its edges), dirtied and lit there, then
warped by one homography into the output crop: either a rectified crop with margins (as the VKCV
crops are cut) or an axis-aligned box around a plate tilted by up to ~12 degrees (as box
detectors cut them).
Everything random comes from one `numpy.random.Generator`, so a seed reproduces a plate.

The model reads grey, so plates are rendered in grey: a colour is its luminance (yellow taxi
plates come out light grey, blue police plates dark grey with light ink), and a colour cast is
a change of that luminance. Rendering one channel keeps the renderer fast enough to feed
training on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..core.alphabet import DIGITS, LETTERS
from ..core.formats import FORMATS, LAYOUTS, REGION_CODES, Layout
from .weather import weather

PLATE_W, PLATE_H = 520, 112  # GOST R 50577 type 1, millimetres
PAD_X, PAD_Y = 45, 30  # surroundings rendered around the plate, millimetres
SCREW_ZONE = 34  # millimetres from either end of the plate kept for the mounting holes
FRAME_FRACTION = 0.35  # share of plates drawn with a licence-plate frame over their edges

# The layouts drawn (those of formats.LAYOUTS with a render share), in the table's order: a plate's
# layout is drawn from their shares in this order, so reordering the table changes every render.
PLATE_TYPES: dict[str, Layout] = {name: layout for name, layout in LAYOUTS.items() if layout.render_share > 0}


def fallback_font_path() -> Path:
    """DejaVu Sans Bold, shipped by matplotlib: used when no plate typeface is given."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"


def load_texts(path: str | Path | None) -> list[str]:
    """Real plate strings, one a line, keeping the private-format ones (the layout they are drawn in)."""
    if path is None:
        return []
    lines = Path(path).read_text(encoding="utf-8").split()
    return [t for t in lines if FORMATS["private"].fullmatch(t)]


@dataclass
class SynthConfig:
    """Where the renderer finds its font and texts, and how often it draws each case."""

    font_path: str | None = None  # GOST typeface; None falls back to DejaVu (and says so)
    texts_path: str | None = None  # real plate strings; None draws every text at random
    real_text_fraction: float = 0.5  # share of private plates whose text comes from texts_path
    box_crop_fraction: float = 0.4  # axis-aligned box around a tilted plate, else rectified
    weather_fraction: float = 0.0  # share of plates given winter or wear (anpr_ocr.train.weather)


class PlateRenderer:
    """Renders (grey uint8 image, label) pairs; `render(rng)` is the one entry point."""

    def __init__(self, config: SynthConfig | None = None):
        self.config = config or SynthConfig()
        self.texts = load_texts(self.config.texts_path)
        self.uses_fallback_font = self.config.font_path is None
        path = fallback_font_path() if self.uses_fallback_font else Path(self.config.font_path)
        if not path.is_file():
            raise FileNotFoundError(f"plate font not found at {path}")
        self.font_path = path
        self.small_font = ImageFont.truetype(str(fallback_font_path()), 48)

    @cached_property
    def glyphs(self) -> dict[str, np.ndarray]:
        """Each character as a float mask at 1 px/mm, digits 76 mm high, letters as the font has them.

        RoadNumbers draws letters at 58/76 of the digit height, as GOST does; the fallback font
        draws capitals as tall as digits, so its letters are scaled to match.
        """
        font = ImageFont.truetype(str(self.font_path), 200)
        masks = {}
        for ch in DIGITS + LETTERS:
            left, top, right, bottom = font.getbbox(ch)
            image = Image.new("L", (right - left + 8, bottom - top + 8), 0)
            ImageDraw.Draw(image).text((4 - left, 4 - top), ch, font=font, fill=255)
            masks[ch] = np.asarray(image, dtype=np.float32) / 255.0
        digit_h = masks["0"].shape[0]
        out = {}
        for ch, m in masks.items():
            target_h = 76.0 * m.shape[0] / digit_h
            if self.uses_fallback_font and ch in LETTERS:
                target_h = 58.0
            scale = target_h / m.shape[0]
            out[ch] = cv2.resize(m, (max(1, round(m.shape[1] * scale)), round(target_h)), interpolation=cv2.INTER_AREA)
        return out

    @cached_property
    def rus_mask(self) -> np.ndarray:
        """'RUS' as an 18 mm high mask (the plate typeface has no such glyphs, DejaVu draws it)."""
        image = Image.new("L", (120, 60), 0)
        ImageDraw.Draw(image).text((0, 0), "RUS", font=self.small_font, fill=255)
        rus = np.asarray(image, np.float32)
        rus = rus[: rus.any(1).nonzero()[0].max() + 1, : rus.any(0).nonzero()[0].max() + 1] / 255.0
        return cv2.resize(rus, (int(rus.shape[1] * 18 / rus.shape[0]), 18))

    # ---- text -----------------------------------------------------------------------------
    def sample_text(self, rng: np.random.Generator) -> tuple[str, str]:
        """A plate type and its text: real strings for part of the private plates, else random."""
        kinds = list(PLATE_TYPES)
        weights = np.array([PLATE_TYPES[k].render_share for k in kinds])
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        if kind == "private" and self.texts and rng.random() < self.config.real_text_fraction:
            return kind, self.texts[rng.integers(len(self.texts))]
        body = "".join(rng.choice(list(LETTERS if c == "L" else DIGITS)) for c in PLATE_TYPES[kind].body)
        return kind, body + sample_region(rng, self.texts)

    # ---- drawing --------------------------------------------------------------------------
    def render(self, rng: np.random.Generator, text: str | None = None,
               kind: str | None = None) -> tuple[np.ndarray, str]:
        """One synthetic crop (grey uint8, native size) and its label."""
        canvas, text = self.render_canvas(rng, text, kind)
        grey = self._warp(canvas, rng)
        if rng.random() < 0.15:  # night / IR: one strong contrast curve over the whole crop
            grey = _ir_look(grey, rng)
        return grey, text

    def render_canvas(self, rng: np.random.Generator, text: str | None = None,
                      kind: str | None = None) -> tuple[np.ndarray, str]:
        """A plate drawn on its grey canvas (float32) with its surroundings, frame, dirt and light, and its
        label: the plate at (PAD_X, PAD_Y) .. + (PLATE_W, PLATE_H). `render` warps it into a crop; the
        detector's scenes warp it into a photo."""
        if text is None:
            kind, text = self.sample_text(rng)
        kind = kind or next((k for k in PLATE_TYPES if _fits(k, text)), "private")
        canvas = self._scene(rng)
        self._draw_plate(canvas, rng, kind, text)
        draw_frame(canvas, rng)
        if self.config.weather_fraction and rng.random() < self.config.weather_fraction:
            weather(canvas, rng, (PAD_X, PAD_Y, PAD_X + PLATE_W, PAD_Y + PLATE_H))
        _dirt_and_light(canvas, rng)
        return canvas, text

    def _scene(self, rng: np.random.Generator) -> np.ndarray:
        """Car body around the plate, sometimes a dark plate holder with dealer text below."""
        h, w = PLATE_H + 2 * PAD_Y, PLATE_W + 2 * PAD_X
        # coarse texture: cheap, and warps shrink it anyway; drawn from rng so a seed reproduces it
        texture = rng.normal(float(rng.integers(0, 256)), float(rng.uniform(1, 12)),
                             (h // 4, w // 4)).astype(np.float32)
        canvas = cv2.resize(texture, (w, h), interpolation=cv2.INTER_LINEAR)
        canvas += np.linspace(-1, 1, h, dtype=np.float32)[:, None] * rng.uniform(-60, 60)
        if rng.random() < 0.6:
            m = rng.integers(3, 12, 4)
            bottom = int(rng.integers(8, 30))
            x0, y0, x1, y1 = PAD_X - m[0], PAD_Y - m[1], PAD_X + PLATE_W + m[2], PAD_Y + PLATE_H + m[3] + bottom
            tone = rng.integers(5, 70)
            cv2.rectangle(canvas, (int(x0), int(y0)), (int(x1), int(y1)), float(tone), -1)
            if rng.random() < 0.6:
                self._small_text(canvas, rng, (PAD_X + 40, PAD_Y + PLATE_H + m[3] + 1), bottom - 2)
        if rng.random() < 0.3:
            self._small_text(canvas, rng, (PAD_X + int(rng.integers(0, 200)), int(rng.integers(0, PAD_Y - 20))), 18)
        return canvas

    def _small_text(self, canvas: np.ndarray, rng: np.random.Generator, xy: tuple[int, int], height: int) -> None:
        """Dealer-frame or bumper text: words that are not part of the plate."""
        if height < 6:
            return
        n = int(rng.integers(6, 22))
        words = "".join(rng.choice(list("ABCDEFGHKLMNOPRSTUWXYZ0123456789 .-")) for _ in range(n))
        image = Image.new("L", (PLATE_W, 60), 0)
        ImageDraw.Draw(image).text((0, 0), words, font=self.small_font, fill=255)
        mask = np.asarray(image, np.float32) / 255.0
        mask = cv2.resize(mask, (int(PLATE_W * height / 60), height))
        x, y = xy
        region = canvas[y:y + mask.shape[0], x:x + mask.shape[1]]
        mask = mask[:region.shape[0], :region.shape[1]]
        region[:] = region * (1 - mask) + mask * float(rng.integers(150, 256))

    def _draw_plate(self, canvas: np.ndarray, rng: np.random.Generator, kind: str, text: str) -> None:
        layout = PLATE_TYPES[kind]
        paper = layout.paper + rng.normal(0, 8)
        ink_c = layout.ink + rng.normal(0, 10)
        plate = np.full((PLATE_H, PLATE_W), paper, np.float32)
        ink_mask = np.zeros((PLATE_H, PLATE_W), np.float32)
        # rim and region separator
        rim = int(rng.integers(2, 5))
        cv2.rectangle(ink_mask, (rim // 2 + 1, rim // 2 + 1), (PLATE_W - rim // 2 - 2, PLATE_H - rim // 2 - 2),
                      1.0, rim)
        sep = int(400 + rng.integers(-8, 8))
        cv2.line(ink_mask, (sep, 4), (sep, PLATE_H - 5), 1.0, int(rng.integers(2, 4)))
        body, region = layout.split(text)
        self.draw_body(ink_mask, rng, body, sep)
        self.draw_region(ink_mask, rng, region, sep)
        weight = int(rng.integers(-2, 3))
        if weight:
            op = cv2.dilate if weight > 0 else cv2.erode
            ink_mask = op(ink_mask, np.ones((abs(weight) + 1, abs(weight) + 1), np.uint8))
        ink_mask *= 1 - _blobs(rng, ink_mask.shape, rng.uniform(0, 0.6))  # worn paint
        if rng.random() < 0.5:  # embossed characters cast a soft shadow
            dx, dy = rng.integers(-3, 4, 2)
            shadow = np.roll(ink_mask, (int(dy), int(dx)), axis=(0, 1)) * rng.uniform(0.15, 0.4)
            plate *= 1 - shadow
        plate = plate * (1 - ink_mask) + ink_c * ink_mask
        self._flag_and_rus(plate, rng, sep)
        draw_screws(plate, rng, three_digit_region=len(region) == 3)
        canvas[PAD_Y:PAD_Y + PLATE_H, PAD_X:PAD_X + PLATE_W] = plate
        _round_corners(canvas, rng)

    def draw_body(self, mask: np.ndarray, rng: np.random.Generator, body: str, sep: int) -> None:
        """The body's glyphs (letters and digits) into the ink mask, left of the region box at `sep` mm."""
        glyphs = [self.glyphs[c] for c in body]
        gaps = rng.uniform(8, 16)
        group_gap = rng.uniform(0, 8)
        widths = [g.shape[1] for g in glyphs]
        breaks = {i for i in range(1, len(body)) if body[i].isdigit() != body[i - 1].isdigit()}
        total = sum(widths) + gaps * (len(body) - 1) + group_gap * len(breaks)
        # the left mounting hole sits between the rim and the first character
        left, right = rng.uniform(SCREW_ZONE - 6, SCREW_ZONE + 8), rng.uniform(8, 18)
        squeeze = min(1.0, (sep - left - right) / total)
        x = left + (sep - left - right - total * squeeze) / 2 + rng.uniform(-3, 3)
        baseline = PLATE_H - 18 + rng.uniform(-3, 3)
        for i, g in enumerate(glyphs):
            if i in breaks:
                x += group_gap * squeeze
            gw = max(1, int(g.shape[1] * squeeze))
            g = cv2.resize(g, (gw, g.shape[0])) if gw != g.shape[1] else g
            _paste_max(mask, g, int(x + rng.uniform(-1.5, 1.5)), int(baseline - g.shape[0] + rng.uniform(-1.5, 1.5)))
            x += (gw + gaps) * squeeze if i < len(glyphs) - 1 else 0

    def draw_region(self, mask: np.ndarray, rng: np.random.Generator, region: str, sep: int) -> None:
        """The region code's digits into the ink mask, in the box right of `sep` mm (two digits to its left, three
        centred)."""
        box_w = PLATE_W - sep - 8
        height = rng.uniform(54, 60)
        glyphs = [self.glyphs[c] for c in region]
        glyphs = [cv2.resize(g, (max(1, int(g.shape[1] * height / 76)), int(height))) for g in glyphs]
        gap = rng.uniform(3, 8)
        total = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
        if len(region) == 2:  # two digits sit left in the box, the right mounting hole beside them
            x = sep + rng.uniform(5, 12)
            squeeze = min(1.0, (PLATE_W - SCREW_ZONE - 2 - x) / total)
        else:
            squeeze = min(1.0, 0.9 * box_w / total)
            x = sep + (PLATE_W - sep - total * squeeze) / 2
        top = rng.uniform(7, 12)
        for g in glyphs:
            g = cv2.resize(g, (max(1, int(g.shape[1] * squeeze)), g.shape[0]))
            _paste_max(mask, g, int(x), int(top))
            x += g.shape[1] + gap * squeeze

    def _flag_and_rus(self, plate: np.ndarray, rng: np.random.Generator, sep: int) -> None:
        """'RUS' and the tricolour flag under the region code."""
        y = int(PLATE_H - 30 + rng.integers(-2, 3))
        rus = self.rus_mask
        x = sep + 12
        region = plate[y:y + rus.shape[0], x:x + rus.shape[1]]
        region *= 1 - 0.9 * rus[: region.shape[0], : region.shape[1]]
        fx, fh, fw = x + rus.shape[1] + 6, 15, 24
        for i, luminance in enumerate((245, 53, 76)):  # white, blue, red
            plate[y + i * fh // 3: y + (i + 1) * fh // 3, fx:fx + fw] = luminance
        cv2.rectangle(plate, (fx, y), (fx + fw, y + fh), 40.0, 1)

    def _warp(self, canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Map the plate's corners into an output crop: rectified with margins, or a tilted box."""
        out_w = float(np.exp(rng.uniform(np.log(70), np.log(420))))
        out_h_plate = out_w * PLATE_H / PLATE_W * rng.uniform(0.85, 1.2)
        corners = np.array([[0, 0], [out_w, 0], [out_w, out_h_plate], [0, out_h_plate]], np.float32)
        if rng.random() < self.config.box_crop_fraction:
            angle = np.deg2rad(rng.uniform(-12, 12))
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
            corners = corners @ rot.T
            shear = rng.uniform(-0.12, 0.12) * out_h_plate  # plate seen from the side
            corners[[0, 1], 0] += shear / 2
            corners[[2, 3], 0] -= shear / 2
            corners[[1, 2], 1] += np.array([-1, 1]) * rng.uniform(-0.08, 0.08) * out_h_plate
            margins = rng.uniform(-0.02, 0.08, 4) * np.array([out_w, out_h_plate, out_w, out_h_plate])
        else:
            jitter = rng.normal(0, 0.015, corners.shape).astype(np.float32)
            corners += jitter * np.array([out_w, out_h_plate], np.float32)
            margins = np.array([rng.uniform(0, 0.1) * out_w, rng.uniform(0, 0.3) * out_h_plate,
                                rng.uniform(0, 0.1) * out_w, rng.uniform(0, 0.3) * out_h_plate])
        lo, hi = corners.min(0), corners.max(0)
        corners += margins[:2] - lo
        size = (int(hi[0] - lo[0] + margins[0] + margins[2]), int(hi[1] - lo[1] + margins[1] + margins[3]))
        src = np.array([[PAD_X, PAD_Y], [PAD_X + PLATE_W, PAD_Y], [PAD_X + PLATE_W, PAD_Y + PLATE_H],
                        [PAD_X, PAD_Y + PLATE_H]], np.float32)
        homography = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
        canvas8 = np.clip(canvas, 0, 255).astype(np.uint8)
        return cv2.warpPerspective(canvas8, homography, (max(size[0], 16), max(size[1], 8)),
                                   flags=cv2.INTER_AREA if out_w < PLATE_W else cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)


# ---- helpers ------------------------------------------------------------------------------
def sample_region(rng: np.random.Generator, texts: list[str]) -> str:
    """A region code: half the time as often as real (private) plates carry it, else any real code alike."""
    if texts and rng.random() < 0.5:
        return LAYOUTS["private"].split(texts[rng.integers(len(texts))])[1]
    return REGION_CODES[rng.integers(len(REGION_CODES))]


def _fits(kind: str, text: str) -> bool:
    return bool(FORMATS[kind].fullmatch(text))


def _paste_max(mask: np.ndarray, glyph: np.ndarray, x: int, y: int) -> None:
    h, w = mask.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + glyph.shape[1], w), min(y + glyph.shape[0], h)
    if x1 > x0 and y1 > y0:
        np.maximum(mask[y0:y1, x0:x1], glyph[y0 - y:y1 - y, x0 - x:x1 - x], out=mask[y0:y1, x0:x1])


def draw_screws(plate: np.ndarray, rng: np.random.Generator, three_digit_region: bool) -> None:
    """Mounting screws at mid-height, left of the first letter and right of the region code, where
    real plates have their holes: a reader must not take them for characters (read "75" + screw
    as "754" otherwise). With a 3-digit region the right one covers the last digit's edge."""
    if rng.random() < 0.2:
        return
    sides = [rng.uniform(16, 28)]
    if not three_digit_region or rng.random() < 0.4:
        sides.append(PLATE_W - rng.uniform(16, 28))
    for x in sides:
        if rng.random() < 0.15:
            continue
        y, radius = rng.uniform(46, 64), rng.uniform(3.5, 6.5)
        head = float(rng.choice([rng.uniform(15, 80), rng.uniform(140, 235)]))  # dark hole or bright cap
        centre = (int(round(x * 4)), int(round(y * 4)))  # cv2 sub-pixel units (shift=2)
        cv2.circle(plate, centre, int(radius * 4), head, -1, lineType=cv2.LINE_AA, shift=2)
        if rng.random() < 0.6:
            cv2.circle(plate, centre, int(radius * 4), float(rng.uniform(10, 70)), 1, lineType=cv2.LINE_AA, shift=2)


def draw_frame(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A licence-plate frame in front of the plate, as many cars carry one: a plastic or chrome border
    over the rim on every side, casting a shadow inwards, and now and then one wide side (latches, a
    tow hook, a bumper edge) that hides the mounting hole and up to about a third of the outermost
    character, so that the model learns to read plates whose edges are partly hidden."""
    if rng.random() >= FRAME_FRACTION:
        return
    top, bottom = rng.uniform(1, 8), rng.uniform(1, 12)
    left, right = rng.uniform(1, 10, 2)
    if rng.random() < 0.3:  # the first glyph starts 28-42 mm in; the last region digit ends ~10 mm before the end
        if rng.random() < 0.5:
            left = rng.uniform(SCREW_ZONE - 14, SCREW_ZONE + 6)
        else:
            right = rng.uniform(12, 20)
    out = rng.uniform(2, 12, 4)
    x0, y0 = int(PAD_X - out[0]), int(PAD_Y - out[1])
    x1, y1 = int(PAD_X + PLATE_W + out[2]), int(PAD_Y + PLATE_H + out[3])
    ix0, iy0 = int(PAD_X + left), int(PAD_Y + top)
    ix1, iy1 = int(PAD_X + PLATE_W - right), int(PAD_Y + PLATE_H - bottom)
    shade = int(rng.integers(0, 4))  # the frame's shadow on the plate, millimetres
    if shade:
        inner = canvas[iy0:iy1, ix0:ix1]
        ring = np.ones(inner.shape, bool)
        ring[shade:-shade, shade:-shade] = False
        inner[ring] *= rng.uniform(0.55, 0.9)
    tone = rng.uniform(10, 60) if rng.random() < 0.7 else rng.uniform(150, 230)  # plastic or chrome
    border = np.zeros(canvas.shape, bool)
    border[y0:y1, x0:x1] = True
    border[iy0:iy1, ix0:ix1] = False
    canvas[border] = tone + rng.normal(0, 4, int(border.sum()))


def _blobs(rng: np.random.Generator, shape: tuple[int, int], strength: float) -> np.ndarray:
    """Smooth random blotches in [0, strength]: dirt, wear, uneven paint."""
    small = rng.random((max(2, shape[0] // 16), max(2, shape[1] // 16))).astype(np.float32)
    field = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return np.clip((field - rng.uniform(0.4, 0.8)) * 3, 0, 1) * strength


def _round_corners(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Plates have rounded corners: let the surroundings show through them."""
    r = int(rng.integers(4, 12))
    for cx, cy in ((PAD_X, PAD_Y), (PAD_X + PLATE_W - r, PAD_Y), (PAD_X, PAD_Y + PLATE_H - r),
                   (PAD_X + PLATE_W - r, PAD_Y + PLATE_H - r)):
        patch = canvas[cy:cy + r, cx:cx + r]
        yy, xx = np.mgrid[0:r, 0:r]
        ox = r - 1 if cx == PAD_X else 0
        oy = r - 1 if cy == PAD_Y else 0
        outside = (xx - ox) ** 2 + (yy - oy) ** 2 > r * r
        neighbour = canvas[cy - 2 if cy == PAD_Y else cy + r + 1, cx - 2 if cx == PAD_X else cx + r + 1]
        patch[outside] = neighbour


def _dirt_and_light(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Dirt, uneven light, a cast shadow and an overall exposure change, in place."""
    h, w = canvas.shape
    if rng.random() < 0.4:
        dirt = _blobs(rng, (h, w), rng.uniform(0.15, 0.6))
        canvas[:] = canvas * (1 - dirt) + 60.0 * rng.uniform(0.5, 1.5) * dirt
    light = np.empty((2, 2), np.float32)
    light[:] = rng.uniform(1 - 0.4, 1 + 0.4, (2, 2))  # a bilinear light field over the canvas
    canvas *= cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        shadow = np.zeros((h, w), np.uint8)
        pts = rng.uniform([0, 0], [w, h], (int(rng.integers(3, 6)), 2)).astype(np.int32)
        cv2.fillPoly(shadow, [cv2.convexHull(pts)], 1)
        canvas[shadow.astype(bool)] *= rng.uniform(0.35, 0.8)
    canvas *= rng.uniform(0.5, 1.25)


def _ir_look(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gamma = rng.uniform(0.4, 2.5)
    lut = np.clip(255 * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)
    return cv2.LUT(grey, lut)


def render_samples(renderer: PlateRenderer, n: int, seed: int, name: str = "synthetic") -> list:
    """`n` rendered plates as `Sample`s (the embedded default data set when no real data is given)."""
    from ..core.data import Sample

    rng = np.random.default_rng(seed)
    return [Sample(*renderer.render(rng), f"{name}/{i}") for i in range(n)]
