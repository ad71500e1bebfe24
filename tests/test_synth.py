import cv2
import numpy as np
import pytest

from anpr_ocr.core.formats import FORMATS, plate_type
from anpr_ocr.train.synth import (
    PAD_X,
    PAD_Y,
    PLATE_H,
    PLATE_TYPES,
    PLATE_W,
    SCREW_ZONE,
    PlateRenderer,
    SynthConfig,
    draw_frame,
    draw_screws,
    fallback_font_path,
    load_texts,
    sample_region,
)


@pytest.fixture(scope="module")
def renderer(font_path, texts_path):
    return PlateRenderer(SynthConfig(font_path=str(font_path), texts_path=str(texts_path)))


def _fits(kind, text):
    return FORMATS[kind].fullmatch(text) is not None


def test_render_is_deterministic(renderer):
    cv2.setRNGSeed(1)
    a, ta = renderer.render(np.random.default_rng(123))
    b, tb = renderer.render(np.random.default_rng(123))  # OpenCV's global RNG has moved on: not used
    assert ta == tb
    np.testing.assert_array_equal(a, b)
    c, tc = renderer.render(np.random.default_rng(124))
    assert (tc, c.shape) != (ta, a.shape)


def test_render_gives_grey_uint8_and_a_gost_label(renderer):
    for seed in range(12):
        grey, text = renderer.render(np.random.default_rng(seed))
        assert grey.ndim == 2 and grey.dtype == np.uint8
        assert grey.shape[0] >= 8 and grey.shape[1] >= 16
        assert 1.0 < grey.shape[1] / grey.shape[0] < 12.0  # plate-like: wider than high
        assert grey.std() > 5  # something is drawn
        assert plate_type(text) is not None, text


def test_uses_the_shared_font(renderer, font_path):
    assert not renderer.uses_fallback_font
    assert renderer.font_path == font_path
    # RoadNumbers draws letters lower than digits (58 vs 76 mm), as GOST does
    assert renderer.glyphs["0"].shape[0] == 76
    assert renderer.glyphs["A"].shape[0] < 70


def test_texts_file_is_loaded_and_filtered(renderer, texts_path):
    assert len(renderer.texts) > 20_000
    assert all(plate_type(t) == "private" for t in renderer.texts[:2000])
    lines = texts_path.read_text(encoding="utf-8").split()
    assert renderer.texts == [t for t in lines if FORMATS["private"].fullmatch(t)]


def test_load_texts_keeps_only_plate_strings(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("X900XH90\nhello\nA123\nAB12377\n\nа123вс77\n", encoding="utf-8")
    assert load_texts(path) == ["X900XH90"]  # private plates only: AB12377 (taxi) is dropped
    assert load_texts(None) == []


def test_private_texts_come_from_the_file(tmp_path, font_path):
    path = tmp_path / "texts.txt"
    path.write_text("X900XH90\n", encoding="utf-8")
    r = PlateRenderer(SynthConfig(font_path=str(font_path), texts_path=str(path), real_text_fraction=1.0))
    drawn = [r.sample_text(np.random.default_rng(seed)) for seed in range(60)]
    private = [t for k, t in drawn if k == "private"]
    assert len(private) > 30
    assert set(private) == {"X900XH90"}
    # other plate types are random, with their region codes taken from the file half the time
    others = [t for k, t in drawn if k != "private"]
    assert others and all(not t.startswith("X900") for t in others)
    assert any(t.endswith("90") for t in others)


def test_real_texts_used_for_private_plates(renderer):
    texts = set(renderer.texts)
    drawn = [renderer.sample_text(np.random.default_rng(seed)) for seed in range(200)]
    private = [t for k, t in drawn if k == "private"]
    in_file = sum(t in texts for t in private)
    # real_text_fraction 0.5: about half come from the file (random strings almost never do)
    assert 0.3 * len(private) < in_file < 0.8 * len(private)


def test_requested_text_and_kind(renderer):
    grey, text = renderer.render(np.random.default_rng(0), text="A123BC77")
    assert text == "A123BC77" and grey.dtype == np.uint8
    grey, text = renderer.render(np.random.default_rng(0), text="AB1234777", kind="trailer")
    assert text == "AB1234777"
    grey, text = renderer.render(np.random.default_rng(0), text="K0007799", kind="police")
    assert text == "K0007799"


def test_plate_type_labels_match_their_formats(renderer):
    seen = {k: [] for k in PLATE_TYPES}
    for seed in range(400):
        kind, text = renderer.sample_text(np.random.default_rng(seed))
        seen[kind].append(text)
    for kind in ("taxi", "trailer", "police"):
        assert seen[kind], f"no {kind} plate in 400 draws"
        for text in seen[kind]:
            assert _fits(kind, text), (kind, text)
    assert all(plate_type(t) is not None for t in seen["private"])
    texts = set(renderer.texts)
    random_private = [t for t in seen["private"] if t not in texts]
    assert random_private and all(_fits("private", t) for t in random_private)
    assert len(seen["private"]) > len(seen["taxi"]) + len(seen["trailer"]) + len(seen["police"])


@pytest.mark.parametrize("kind, text", [("taxi", "AB123777"), ("trailer", "AB1234777"), ("police", "A1234777")])
def test_render_each_plate_type(renderer, kind, text):
    grey, label = renderer.render(np.random.default_rng(5), text=text, kind=kind)
    assert label == text
    assert plate_type(label) == kind
    assert grey.ndim == 2 and grey.dtype == np.uint8


def test_fallback_font():
    r = PlateRenderer(SynthConfig())
    assert r.uses_fallback_font
    assert r.font_path == fallback_font_path()
    assert r.texts == []
    grey, text = r.render(np.random.default_rng(7))
    assert grey.ndim == 2 and grey.dtype == np.uint8
    assert plate_type(text) is not None
    # DejaVu capitals are scaled to the GOST letter height
    assert r.glyphs["A"].shape[0] == 58 and r.glyphs["0"].shape[0] == 76


def test_missing_font_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nofont.ttf"):
        PlateRenderer(SynthConfig(font_path=str(tmp_path / "nofont.ttf")))


def test_sample_region():
    rng = np.random.default_rng(0)
    codes = [sample_region(rng, []) for _ in range(50)]
    assert all(c.isdigit() and len(c) in (2, 3) for c in codes)
    assert {sample_region(np.random.default_rng(s), ["X900XH90"]) for s in range(40)} >= {"90"}


def test_texts_for_private_plates_fit_the_private_format(renderer):
    assert [t for t in renderer.texts if not _fits("private", t)] == []


def test_mounting_holes_have_room_beside_the_characters(renderer):
    # the left hole sits before the first character, the right one after a 2-digit region code
    for seed in range(20):
        rng = np.random.default_rng(seed)
        mask = np.zeros((PLATE_H, PLATE_W), np.float32)
        renderer.draw_body(mask, rng, "X123XX", sep=400)
        renderer.draw_region(mask, rng, "77", sep=400)
        ink = mask.max(axis=0) > 0.5
        assert not ink[:SCREW_ZONE - 8].any() and not ink[PLATE_W - SCREW_ZONE + 2:].any(), seed
        assert ink[SCREW_ZONE + 10:380].any() and ink[410:PLATE_W - SCREW_ZONE].any()


def test_screws_are_drawn_only_in_the_hole_zones():
    changed = np.zeros(PLATE_W, bool)
    for seed in range(30):
        plate = np.full((PLATE_H, PLATE_W), 200.0, np.float32)
        draw_screws(plate, np.random.default_rng(seed), three_digit_region=False)
        changed |= (plate != 200.0).any(axis=0)
    assert changed[:SCREW_ZONE].any() and changed[PLATE_W - SCREW_ZONE:].any()
    assert not changed[SCREW_ZONE:PLATE_W - SCREW_ZONE].any()


def test_frames_cover_the_plate_edges_and_never_its_middle():
    canvas_shape = (PLATE_H + 2 * PAD_Y, PLATE_W + 2 * PAD_X)
    changed = np.zeros(canvas_shape, bool)
    drawn = 0
    for seed in range(200):
        canvas = np.full(canvas_shape, 100.0, np.float32)
        draw_frame(canvas, np.random.default_rng(seed))
        drawn += bool((canvas != 100.0).any())
        changed |= canvas != 100.0
    assert 40 <= drawn <= 100  # about a third of the plates carry a frame
    plate_cols = changed[PAD_Y + 20:PAD_Y + PLATE_H - 20].any(axis=0)[PAD_X:PAD_X + PLATE_W]
    # the middle (body and region code, bar their outermost glyph edges) is never hidden
    assert not plate_cols[SCREW_ZONE + 12:PLATE_W - 24].any()
    # a wide side reaches past the mounting hole into the first glyph's zone now and then
    assert plate_cols[SCREW_ZONE:SCREW_ZONE + 8].any() and plate_cols[PLATE_W - 20:].any()
