"""The benchmark problems, written once as netc specs and once as Z3 constraints.

Each problem is a chain of convs/pools over square inputs, every unknown with an explicit
domain, so both tools search exactly the same space. Z3's integer `/` is floor division
for a positive divisor, so the encodings are exact.
"""

KSP = {"k": [1, 3, 5, 7], "s": [1, 2], "p": [0, 1, 2, 3]}


def chain(name, layers, size, target, unknowns=("k", "s", "p"), channels=8):
    """`layers` convs on size x size x 3, output target x target: per layer the unknowns
    among kernel k, stride s, pad p, dilation d (d in {1, 2})."""
    doms = dict(KSP, d=[1, 2])
    vars_ = []
    for i in range(1, layers + 1):
        for u in unknowns:
            vars_.append((f"{u}{i}", doms[u]))
    return {
        "name": name,
        "input": size,
        "channels": 3,
        "layers": [
            {"k": f"k{i}", "s": f"s{i}" if "s" in unknowns else 1, "p": f"p{i}",
             "d": f"d{i}" if "d" in unknowns else 1, "filters": channels}
            for i in range(1, layers + 1)
        ],
        "vars": vars_,
        "target": target,
    }


PROBLEMS = [
    {
        "name": "find-k",
        "input": 205, "channels": 10,
        "layers": [{"k": "k", "s": 3, "p": 0, "d": 1, "filters": 96}],
        "vars": [("k", list(range(1, 206)))],
        "target": 66,
    },
    {
        "name": "30-to-15",
        "input": 30, "channels": 20,
        "layers": [{"k": 3, "s": "s", "p": "p", "d": 1, "filters": 40}],
        "vars": [("s", list(range(1, 31))), ("p", [0, 1, 2])],
        "target": 15,
    },
    {
        "name": "same-20x20",
        "input": 20, "channels": 10,
        "layers": [{"k": "k", "s": "s", "p": "p", "d": 1, "filters": 10}],
        "vars": [("k", [1, 3, 5]), ("s", list(range(1, 21))), ("p", [0, 1, 2, 3, 4])],
        "target": 20,
    },
    chain("chain3", 3, 224, 28),
    chain("chain4", 4, 224, 14),
    chain("chain5", 5, 224, 7),
    chain("chain20x4", 20, 224, 7, unknowns=("k", "s", "p", "d")),
]


def domain_text(values):
    if len(values) > 3 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return "[" + ", ".join(map(str, values)) + "]"


def spec(problem):
    """The netc spec of a problem."""
    lines = [
        "# yaml-language-server: $schema=../../../schemas/netspec.schema.json",
        f"name: {problem['name']}",
        f"input: {problem['input']}x{problem['input']}x{problem['channels']}",
        "vars:",
    ]
    lines += [f"  {n}: {domain_text(d)}" for n, d in problem["vars"]]
    lines.append("layers:")

    def word(v):
        return f"${v}" if isinstance(v, str) else str(v)

    for layer in problem["layers"]:
        lines.append(f"  - CONV{word(layer['k'])}-{layer['filters']} stride {word(layer['s'])} "
                     f"pad {word(layer['p'])} dilation {word(layer['d'])}")
    t = problem["target"]
    lines.append(f"output: {t}x{t}x{problem['layers'][-1]['filters']}")
    return "\n".join(lines) + "\n"
