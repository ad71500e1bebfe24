"""The plate reader: the CRNN, its checkpoints (FP32 and FX INT8), ONNX, batched inference, CTC decoding, `predict`.

Imports only `core`."""
