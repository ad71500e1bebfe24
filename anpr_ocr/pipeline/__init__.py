"""Whole photos in, readings out: `read_plates` and drawing, on top of `reader` and `detector`."""
