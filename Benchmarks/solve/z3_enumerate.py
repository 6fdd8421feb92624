#!/usr/bin/env python3
"""Enumerates every solution of one benchmark problem with Z3 (blocking clauses), printing
the count: the whole-process counterpart of `netc solve --format json --max N`.

    z3_enumerate.py PROBLEM_NAME
"""
import sys

import z3

from problems import PROBLEMS


def main():
    problem = next(p for p in PROBLEMS if p["name"] == sys.argv[1])
    solver = z3.Solver()
    decision = {}
    for name, dom in problem["vars"]:
        v = z3.Int(name)
        decision[name] = v
        solver.add(z3.Or([v == x for x in dom]))

    def val(x):
        return decision[x] if isinstance(x, str) else z3.IntVal(x)

    h = z3.IntVal(problem["input"])
    for i, layer in enumerate(problem["layers"]):
        k, s, p, d = (val(layer[key]) for key in ("k", "s", "p", "d"))
        nxt = z3.Int(f"h{i + 1}")
        # out = floor((in + 2p - d(k-1) - 1) / s) + 1, s > 0: Z3's div is floor division.
        solver.add(nxt == (h + 2 * p - d * (k - 1) - 1) / s + 1)
        solver.add(nxt >= 1)
        h = nxt
    solver.add(h == problem["target"])
    names = [n for n, _ in problem["vars"]]
    count = 0
    while solver.check() == z3.sat:
        model = solver.model()
        count += 1
        solver.add(z3.Or([decision[n] != model.eval(decision[n], model_completion=True) for n in names]))
    print(count)


if __name__ == "__main__":
    main()
