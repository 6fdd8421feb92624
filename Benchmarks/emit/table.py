"""Prints the comparison table from the JSON of netc bench and ort_bench.py's lines."""
import json, sys, os
out = sys.argv[1]
ort = dict(l.split() for l in open(os.path.join(out, "ort.txt")))
print("| row | width | emitted ms | GFLOP/s | of peak | ONNX Runtime ms | emitted / ORT speed |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in ["conv32", "conv56", "conv224", "sep14", "resnet18", "mobilenet_v2"]:
    d = json.load(open(os.path.join(out, name + ".json")))
    t, g, p = d["total"]["seconds"], d["total"]["gflops"], d["peak_gflops"]
    o = float(ort[name]) if name in ort else float("nan")
    width = f"{d.get('vector_width', 8)} ({d.get('isa', '?')})"
    print(f"| {name} | {width} | {t*1e3:.3f} | {g:.1f} | {100*g/p:.0f}% | {o*1e3:.3f} | {o/t:.2f}x |")
