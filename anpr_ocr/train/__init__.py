"""Training (needs the `[train]` extra): the renderer, augmentation, datasets, recombination, reader and
detector training, photo scenes. Imports `core`, `reader`, `detector`, `pipeline`."""
