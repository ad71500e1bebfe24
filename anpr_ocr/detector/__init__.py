"""The plate detector: the net, geometry, heatmap decoding, its checkpoints and measures, and annotated photos.

Imports only `core`."""
