"""Winter photos: real photos whose annotated plates are replaced by rendered plates in winter dress.

The VKCV photos hold few dirty plates, so what a change does to plates under slush cannot be read off them.
`winter_photos` pastes a plate rendered in winter dress or worn (`train.weather`, every plate) over each annotated
plate's four corners: the photo's scene, the plate's size, place and slant stay, and the text is known. It ranks
detector and read-time changes on dirty plates; a render is not a real dirty plate, so it forecasts no street's
figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..detector.photos import Photo, Plate
from ..train.reader import recipe_synth
from ..train.scenes import paste_plate
from ..train.synth import PlateRenderer


def winter_renderer() -> PlateRenderer:
    """The reader's renderer ($ANPR_FONT, $ANPR_TEXTS) with every plate in winter dress or worn."""
    return PlateRenderer(replace(recipe_synth(), weather_fraction=1.0))


def winter_photos(photos: Sequence[Photo], renderer: PlateRenderer, seed: int) -> list[Photo]:
    """Copies of `photos` with each annotated plate covered by a render pasted on its corners, labelled with the
    render's text; the renders and their pasting are drawn from `seed`."""
    rng = np.random.default_rng(seed)
    out = []
    for photo in photos:
        grey = photo.grey.copy()
        plates = []
        for plate in photo.plates:
            canvas, text = renderer.render_canvas(rng)
            paste_plate(grey, canvas, np.asarray(plate.corners, np.float32), rng)
            plates.append(Plate(plate.corners, text))
        out.append(Photo(f"{photo.name}_winter{seed}", grey, plates))
    return out
