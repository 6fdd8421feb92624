"""Exports torchvision's resnet18 and mobilenet_v2 (random weights, eval mode) to ONNX in
the directory given (run with a Python that has torch and torchvision; onnx is optional).

The models are written with ONNX IR version 13 at most: ONNX Runtime 1.31 rejects 14 ("max
supported IR version: 13"), which a recent exporter may write.
"""
import sys

import torch

# torchvision's compiled ops may not load against the installed torch (its fake-kernel
# registrations fail at import: "operator torchvision::nms does not exist"). Its models are
# plain Python, so import it with register_fake made a no-op decorator for the while, as
# scripts/reference/generate_fixtures.py does.
_register_fake = torch.library.register_fake
torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
try:
    import torchvision
finally:
    torch.library.register_fake = _register_fake

MAX_IR_VERSION = 13


def cap_ir_version(path):
    """Rewrites the model at `path` with ir_version at most MAX_IR_VERSION."""
    data = open(path, "rb").read()
    try:
        import onnx
    except ImportError:
        # ModelProto's field 1 (ir_version, a varint) comes first in what exporters write;
        # versions below 128 are one byte, so the byte is replaced in place.
        if len(data) > 1 and data[0] == 0x08 and data[1] < 0x80:
            if data[1] > MAX_IR_VERSION:
                open(path, "wb").write(data[:1] + bytes([MAX_IR_VERSION]) + data[2:])
            return
        sys.exit(f"{path}: cannot read its ir_version without the onnx package")
    model = onnx.load_from_string(data)
    if model.ir_version > MAX_IR_VERSION:
        model.ir_version = MAX_IR_VERSION
        onnx.save(model, path)


out = sys.argv[1]
for name, ctor in [("resnet18", torchvision.models.resnet18), ("mobilenet_v2", torchvision.models.mobilenet_v2)]:
    m = ctor(weights=None).eval()
    path = f"{out}/{name}.onnx"
    torch.onnx.export(m, torch.randn(1, 3, 224, 224), path, opset_version=13, dynamo=False)
    cap_ir_version(path)
    print(f"wrote {path}", file=sys.stderr)
