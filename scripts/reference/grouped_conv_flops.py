#!/usr/bin/env python3
"""Why FlopCounterMode's training-step count for MobileNet v2 is 6.9 times netc's: its
`convolution_backward` formula ignores `groups` in the weight gradient.

`torch.utils.flop_counter.conv_backward_flop` takes `_groups` and never reads it. It counts
the weight gradient as a convolution of the input (channels and batch swapped) with the
output gradient, which for a dense conv is the forward's cost; for a grouped conv it pairs
every input channel with every output channel, `groups` times too many. The input
gradient is right. netc counts each gradient of a conv at its forward MACs, groups
included: every weight element's gradient sums over the output positions it touched,
prod(weight) x output positions = the forward's MACs.

Measured here, and written to Tests/NetcPassesTests/Fixtures/grouped_conv_flops.json:
- a lone 3x3 conv, 32 -> 32 channels on 56x56, groups 1 and 32 (depthwise): FlopCounterMode
  MACs (FLOPs / 2) of the forward, the input gradient alone, the weight gradient alone;
- torchvision's MobileNet v2 at batch 2: the training step's MACs as FlopCounterMode counts
  them, and with its formula corrected (the weight-gradient term divided by groups).

Run: /work/venv-torch/bin/python scripts/reference/grouped_conv_flops.py
"""

import json
import os

import torch
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

aten = torch.ops.aten
OUT = os.path.join(os.path.dirname(__file__), "../../Tests/NetcPassesTests/Fixtures/grouped_conv_flops.json")


def corrected_conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                                 _output_padding, groups, output_mask, out_shape):
    """PyTorch's formula with the weight-gradient term divided by `groups`."""
    flops = 0
    if output_mask[0]:
        flops += flop_counter.conv_flop_count(grad_out_shape, w_shape, list(out_shape[0]), not transposed)
    if output_mask[1]:
        t = lambda s: [s[1], s[0]] + list(s[2:])
        gw = list(out_shape[1])
        if transposed:
            term = flop_counter.conv_flop_count(t(grad_out_shape), t(x_shape), t(gw), transposed=False)
        else:
            term = flop_counter.conv_flop_count(t(x_shape), t(grad_out_shape), t(gw), transposed=False)
        flops += term // groups
    return flops


def macs(call, corrected=False):
    mapping = {}
    if corrected:
        mapping = {aten.convolution_backward: corrected_conv_backward_flop}
    counter = FlopCounterMode(display=False, custom_mapping=mapping)
    with counter:
        call()
    return counter.get_total_flops() // 2


def lone_conv(groups):
    torch.manual_seed(0)
    result = {}
    for part in ("forward", "input_gradient", "weight_gradient"):
        conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=groups, bias=False)
        conv.weight.requires_grad_(part == "weight_gradient")
        x = torch.randn(1, 32, 56, 56, requires_grad=part == "input_gradient")
        if part == "forward":
            result[part] = macs(lambda: conv(x))
        else:
            y = conv(x)
            result[part] = macs(lambda: y.sum().backward())
    return result


def mobilenet_v2():
    # torchvision's compiled ops may not load against this torch: import its Python models
    # with register_fake a no-op, as generate_fixtures.py does.
    register_fake = torch.library.register_fake
    torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
    try:
        import torchvision.models as tvm
    finally:
        torch.library.register_fake = register_fake

    torch.manual_seed(0)
    model = tvm.mobilenet_v2(weights=None).train()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    out = {}
    for corrected in (False, True):
        out["corrected" if corrected else "flop_counter"] = macs(lambda: model(x).sum().backward(), corrected)
        model.zero_grad(set_to_none=True)
    return out


def main():
    result = {
        "torch": torch.__version__,
        "lone_conv_3x3_32ch_56x56": {"groups_1": lone_conv(1), "groups_32": lone_conv(32)},
        "mobilenet_v2_batch_2_step_macs": mobilenet_v2(),
    }
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
