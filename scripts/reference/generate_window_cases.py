"""Output shapes of conv and pool layers computed by PyTorch, for netc's shape tests.

Each case is run through torch.nn.functional on a zero tensor; the shape torch returns is
the expectation. Asymmetric padding is applied with F.pad first (as ONNX pads do).
Writes Tests/NetcPassesTests/Fixtures/window_cases.json. Run with the torch venv:
    /work/venv-torch/bin/python scripts/reference/generate_window_cases.py
"""
import json
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/NetcPassesTests/Fixtures/window_cases.json"

# (spatial input, channels, op, kernel, stride, pad_begin, pad_end, dilation, ceil, groups, filters)
CASES = [
    ((32, 32), 3, "conv", (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), False, 1, 10),
    ((16, 16), 10, "conv", (3, 3), (3, 3), (2, 2), (2, 2), (1, 1), False, 1, 20),
    ((205, 205), 10, "conv", (9, 9), (3, 3), (0, 0), (0, 0), (1, 1), False, 1, 96),
    ((224, 224), 3, "conv", (7, 7), (2, 2), (3, 3), (3, 3), (1, 1), False, 1, 64),
    ((28, 31), 8, "conv", (3, 5), (2, 1), (1, 2), (1, 2), (1, 1), False, 1, 4),
    ((28, 28), 8, "conv", (3, 3), (1, 1), (2, 2), (2, 2), (2, 2), False, 1, 8),
    ((17, 19), 12, "conv", (3, 3), (2, 3), (0, 1), (1, 0), (1, 2), False, 4, 8),
    ((10, 10), 6, "conv", (3, 3), (1, 1), (0, 0), (0, 0), (3, 3), False, 3, 6),
    ((50,), 4, "conv", (5,), (2,), (1,), (3,), (1,), False, 1, 6),
    ((64,), 2, "conv", (3,), (1,), (0,), (0,), (4,), False, 2, 4),
    ((8, 9, 10), 2, "conv", (3, 3, 3), (1, 2, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), False, 1, 4),
    ((112, 112), 64, "maxpool", (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), False, 1, 0),
    ((15, 15), 4, "maxpool", (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), False, 1, 0),
    ((15, 15), 4, "maxpool", (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), True, 1, 0),
    ((5, 5), 2, "maxpool", (2, 2), (2, 2), (1, 1), (1, 1), (1, 1), True, 1, 0),
    ((13, 13), 2, "maxpool", (3, 3), (2, 2), (0, 0), (0, 0), (1, 1), True, 1, 0),
    ((6, 7), 2, "maxpool", (3, 3), (2, 2), (1, 1), (1, 1), (2, 2), True, 1, 0),
    ((11,), 3, "maxpool", (3,), (2,), (1,), (1,), (1,), True, 1, 0),
    ((10, 10), 3, "avgpool", (3, 3), (3, 3), (1, 1), (1, 1), (1, 1), True, 1, 0),
    ((7, 7, 7), 2, "avgpool", (2, 2, 2), (2, 2, 2), (0, 0, 0), (0, 0, 0), (1, 1, 1), False, 1, 0),
]


def run(case):
    spatial, channels, op, k, s, pb, pe, d, ceil, groups, filters = case
    x = torch.zeros((1, channels) + spatial)
    pads = []
    for b, e in reversed(list(zip(pb, pe))):
        pads += [b, e]
    symmetric = pb == pe
    dims = len(spatial)
    if op == "conv":
        w = torch.zeros((filters, channels // groups) + k)
        conv = [F.conv1d, F.conv2d, F.conv3d][dims - 1]
        if not symmetric:
            x = F.pad(x, pads)
        y = conv(x, w, stride=s, padding=pb if symmetric else 0, dilation=d, groups=groups)
    elif op == "maxpool":
        pool = [F.max_pool1d, F.max_pool2d, F.max_pool3d][dims - 1]
        y = pool(x, k, stride=s, padding=pb, dilation=d, ceil_mode=ceil)
    else:
        pool = [F.avg_pool1d, F.avg_pool2d, F.avg_pool3d][dims - 1]
        y = pool(x, k, stride=s, padding=pb, ceil_mode=ceil)
    out = list(y.shape[2:]) + [y.shape[1]]
    return {
        "input": list(spatial) + [channels], "op": op, "kernel": list(k), "stride": list(s),
        "pad_begin": list(pb), "pad_end": list(pe), "dilation": list(d), "ceil": ceil,
        "groups": groups, "filters": filters, "output": out,
    }


def main():
    cases = [run(c) for c in CASES]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"source": f"torch {torch.__version__} functional ops", "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
