#!/usr/bin/env python3
"""Counts, by plain nested loops, the choices of kernel (1, 3, 5, 7), stride (1, 2) and
pad (0..3) for each of N convs on 224x224 whose output must be 7x7.

This is the independent check of specs/solve-chain5.yaml: it tries every one of the
32^N combinations (no pruning, no dynamic programming) with the textbook formula
out = floor((in + 2*pad - kernel) / stride) + 1, requiring every extent >= 1.
Height and width get the same square kernels, strides and pads, so one axis decides.

    python3 scripts/solve/brute_force_chain.py 5     # prints 226895 (about a minute)
"""
import itertools
import sys

KERNELS = (1, 3, 5, 7)
STRIDES = (1, 2)
PADS = (0, 1, 2, 3)


def count(layers: int, size: int = 224, target: int = 7) -> int:
    choices = list(itertools.product(KERNELS, STRIDES, PADS))
    total = 0
    for combo in itertools.product(choices, repeat=layers):
        extent = size
        ok = True
        for k, s, p in combo:
            extent = (extent + 2 * p - k) // s + 1
            if extent < 1:
                ok = False
                break
        if ok and extent == target:
            total += 1
    return total


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(count(n))
