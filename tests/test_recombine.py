import numpy as np
import pytest
import torch

from anpr_ocr.core.alphabet import ALPHABET
from anpr_ocr.core.data import Sample
from anpr_ocr.train.recombine import BODY, cut_column, cut_columns, recombinable, swap_region

H, W, T = 60, 256, 32  # a drawn crop; a model's frames (8 px each)
LINE = 190  # the line before the region code, 2 px wide


def _plate(paper: int = 230, ink: int = 30) -> np.ndarray:
    """A drawn plate: letters as blocks of the lower part's height, the region's first digit as a block
    of its upper part, and the line before the region code down the whole plate."""
    grey = np.full((H, W), paper, np.uint8)
    grey[20:48, 160:180] = ink  # the body's last letter
    grey[8:36, 200:214] = ink  # the region's first digit
    grey[3:57, LINE:LINE + 2] = ink
    return grey


def test_recombinable_takes_private_plates_only():
    assert recombinable("A123BC77") and recombinable("A123BC777")
    assert not recombinable("AB12377") and not recombinable("A1234")


def test_cut_column_finds_the_line_between_the_characters():
    # the letter's frames end at frame 20 (x 164), the digit's start at frame 25 (x 204)
    assert cut_column(_plate(), 20, 25, T) == LINE
    assert cut_column(_plate(), 19, 26, T) == LINE
    # a wider crop of the same plate: the frames scale with it
    wide = np.repeat(_plate(), 2, axis=1)
    assert cut_column(wide, 20, 25, T) in (2 * LINE, 2 * LINE + 1, 2 * LINE + 2, 2 * LINE + 3)


def test_swap_region_keeps_the_body_and_takes_the_donors_region():
    body = _plate(paper=160, ink=60)  # mid greys: the mapped levels need no clipping
    donor = np.full((30, 120), 100, np.uint8)
    donor[:, 90:] = np.tile(np.array([60, 140], np.uint8), (30, 15))  # a striped region part
    grey, text = swap_region(body, "A123BC77", LINE, donor, "E456KM199", 90)
    assert text == "A123BC199"
    assert grey.shape == body.shape and grey.dtype == np.uint8
    assert np.array_equal(grey[:, :LINE], body[:, :LINE])
    # the donor's part takes the mean and spread of the part it replaces
    replaced, put = body[:, LINE:].astype(float), grey[:, LINE:].astype(float)
    assert put.mean() == pytest.approx(replaced.mean(), abs=1.0)
    assert put.std() == pytest.approx(replaced.std(), rel=0.05)


def test_swap_region_refuses_other_layouts_and_bad_cuts():
    with pytest.raises(ValueError, match="private plates"):
        swap_region(_plate(), "AB12377", LINE, _plate(), "A123BC77", LINE)
    with pytest.raises(ValueError, match="donor cut 300"):
        swap_region(_plate(), "A123BC77", LINE, _plate(), "A123BC77", 300)


class _Spelling(torch.nn.Module):
    """A stand-in model whose frames spell each crop's planned text: character k at frames[k]."""

    def __init__(self, plans: list[tuple[str, list[int]]]):
        super().__init__()
        self.plans = plans

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[0] == len(self.plans)
        logits = torch.zeros(x.shape[0], T, len(ALPHABET) + 1)
        logits[:, :, 0] = 5.0  # blank everywhere else
        for b, (text, frames) in enumerate(self.plans):
            for ch, t in zip(text, frames):
                logits[b, t, ALPHABET.index(ch) + 1] = 10.0
        return logits


def test_cut_columns_place_the_cut_from_the_frames_and_skip_other_layouts():
    frames = [3, 6, 9, 12, 16, 20, 25, 28]  # the sixth character (last letter) at 20, the seventh at 25
    samples = [Sample(_plate(), "A123BC77", "a.png"), Sample(_plate(), "AB12377", "b.png"),
               Sample(np.repeat(_plate(), 2, axis=1), "E456KM35", "c.png")]
    # the stand-in reads the two crops that are private plates, in their order
    model = _Spelling([("A123BC77", frames), ("E456KM35", frames)])
    cuts = cut_columns(model, samples)
    assert cuts[0] == LINE and cuts[1] is None and cuts[2] in range(2 * LINE, 2 * LINE + 4)
    assert frames[BODY - 1] == 20 and frames[BODY] == 25
