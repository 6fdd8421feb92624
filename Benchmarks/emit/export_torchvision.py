"""Exports torchvision's resnet18 and mobilenet_v2 (random weights, eval mode) to ONNX in
the directory given (run with a Python that has torch, torchvision and onnx)."""
import sys, torch, torchvision
out = sys.argv[1]
for name, ctor in [("resnet18", torchvision.models.resnet18), ("mobilenet_v2", torchvision.models.mobilenet_v2)]:
    m = ctor(weights=None).eval()
    torch.onnx.export(m, torch.randn(1, 3, 224, 224), f"{out}/{name}.onnx", opset_version=13, dynamo=False)
