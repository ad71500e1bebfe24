"""The plate detector: the net, geometry, heatmap decoding, its checkpoints, measures and ONNX Runtime backend,
and annotated photos.

Imports only `core`."""
