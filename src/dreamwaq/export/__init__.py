"""Exported policies: the I/O contract, ONNX/TorchScript export and sim-to-sim."""
