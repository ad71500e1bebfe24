"""New real-looking training plates from two real crops: one's body, the other's region code.

The real crops are few (about a thousand) and a third of them carry one region code, so a model
learns the region digits from few examples and with a strong prior for the common code. Cutting a
crop at the line before its region code and putting another crop's region part there gives a plate
of real pixels with a body/region pairing nobody photographed; drawing the donors evenly over the
region codes flattens that prior.

Where to cut comes from the characters themselves: a model reads the crop, and the most probable
CTC path of its label places the body's last character and the region's first digit in the frames
(`decode.char_frames`). The line lies between them, nearer the digit (the last letter's frames
often sit on its left part); `cut_column` takes the column there that stays darkest down the plate,
as the line runs the plate's full height and letter strokes do not.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..core.data import Sample
from ..core.formats import FORMATS, LAYOUTS
from ..reader.decode import char_frames, softmax
from ..reader.infer import frame_logits

BODY = len(LAYOUTS["private"].body)  # characters before the region code
SKIP = 0.4  # share of the span between the two characters' frames left out on the letter's side


def recombinable(text: str) -> bool:
    """Whether a label is a private plate, the layout whose body and region can be exchanged."""
    return FORMATS["private"].fullmatch(text) is not None


def cut_column(grey: np.ndarray, last_letter_end: int, first_digit_start: int, time_steps: int) -> int:
    """The column of the line before the region code, given the frames of the characters around it."""
    h, w = grey.shape
    step = w / time_steps
    start, end = (last_letter_end + 0.5) * step, (first_digit_start + 0.5) * step
    lo = int(start + SKIP * (end - start))
    hi = min(w, max(int(np.ceil(end)), lo + 1))
    band = cv2.GaussianBlur(grey, (3, 3), 0)[h // 5: h - h // 5, lo:hi]
    return lo + int(np.argmin(np.percentile(band, 95, axis=0)))


@torch.inference_mode()
def cut_columns(model: torch.nn.Module, samples: list[Sample]) -> list[int | None]:
    """For each crop, where `swap_region` cuts it (read by `model`); None for a label that is not a private plate."""
    chosen = [i for i, s in enumerate(samples) if recombinable(s.text)]
    cuts: list[int | None] = [None] * len(samples)
    if not chosen:
        return cuts
    was_training = model.training
    model.eval()
    logits = frame_logits(model, [samples[i].image for i in chosen])
    model.train(was_training)
    frames = char_frames(softmax(logits.astype(np.float64)), [samples[i].text for i in chosen])
    for i, spans in zip(chosen, frames):
        cuts[i] = cut_column(samples[i].image, spans[BODY - 1][1], spans[BODY][0], logits.shape[1])
    return cuts


def swap_region(body: np.ndarray, body_text: str, body_cut: int, donor: np.ndarray, donor_text: str,
                donor_cut: int) -> tuple[np.ndarray, str]:
    """`body` with its part from `body_cut` on replaced by `donor`'s part from `donor_cut` on, and its label.

    The donor's part is resized to the size of the part it replaces and its grey levels mapped to that
    part's mean and spread, so the plate keeps its own size and light.
    """
    for text in (body_text, donor_text):
        if not recombinable(text):
            raise ValueError(f"swap_region takes private plates (letter, 3 digits, 2 letters, region), got {text!r}")
    for name, grey, cut in (("body", body, body_cut), ("donor", donor, donor_cut)):
        if not 0 < cut < grey.shape[1]:
            raise ValueError(f"{name} cut {cut} lies outside its crop, 0 to {grey.shape[1]}")
    replaced = body[:, body_cut:].astype(np.float32)
    part = cv2.resize(donor[:, donor_cut:], (replaced.shape[1], replaced.shape[0]),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    part = (part - part.mean()) / max(float(part.std()), 1.0) * replaced.std() + replaced.mean()
    grey = np.concatenate([body[:, :body_cut], np.clip(part, 0, 255).round().astype(np.uint8)], axis=1)
    return grey, body_text[:BODY] + donor_text[BODY:]
