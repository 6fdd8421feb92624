"""Fits the polynomials of netc_gelu_erf (Sources/CNetcKernels/exp.c) and reports the
kernel's error, simulated in float32 with numpy, against Python's double erf/erfc.

    python3 scripts/kernels/fit_gelu_erf.py

GELU(x) = x/2 * (1 + erf(z)), z = x / sqrt(2). For |z| <= 1, erf(z) = z * p(z^2), p of
degree 6. For |z| > 1 the kernel computes erfc(|z|) = exp(q(|z|)), q of degree 11 fitted
to log(erfc(t)) on [1, 6]: then 1 + erf(z) is 2 - erfc(t) for z > 0 and erfc(t) itself
for z < 0, which the direct form 1 + erf(z) loses to cancellation (at z = -2.8 that form
keeps about 3 significant digits). Past t = 6, erfc(t) < 2.2e-17 is taken as 0.
Least squares on Chebyshev points' worth of samples, converted to monomials for Horner.
"""

import math

import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as P

f32 = np.float32


def fit(x, y, degree, domain):
    return C.Chebyshev.fit(x, y, degree, domain=domain).convert(kind=P.Polynomial).coef.astype(np.float32)


def horner(coefs, x):
    r = np.full_like(x, coefs[-1], dtype=np.float32)
    for c in coefs[-2::-1]:
        r = (r * x + c).astype(np.float32)
    return r


z = np.linspace(1e-6, 1.0, 20001)
small = fit(z * z, np.array([math.erf(v) / v for v in z]), 6, [0, 1])
t = np.linspace(1.0, 6.0, 40001)
large = fit(t, np.array([math.log(math.erfc(v)) for v in t]), 11, [1, 6])
print("p (erf(z) / z in z^2):", ", ".join(f"{float(c):.9e}f" for c in small))
print("q (log erfc(t) in t): ", ", ".join(f"{float(c):.9e}f" for c in large))

x = np.linspace(-9, 9, 400001).astype(np.float32)
zz = (x * f32(0.70710678118654752)).astype(np.float32)
a = np.abs(zz)
one_plus_small = (f32(1) + (zz * horner(small, (zz * zz).astype(np.float32))).astype(np.float32)).astype(np.float32)
erfc = np.exp(horner(large, np.minimum(a, f32(6))).astype(np.float64)).astype(np.float32)  # stands for a 2-ulp expf
erfc = np.where(a > 6, f32(0), erfc)
one_plus_large = np.where(zz > 0, (f32(2) - erfc).astype(np.float32), erfc)
gelu = (f32(0.5) * x * np.where(a <= 1, one_plus_small, one_plus_large)).astype(np.float32)
exact = np.array([0.5 * float(v) * math.erfc(-float(v) / math.sqrt(2)) for v in x])
ulps = np.abs(gelu - exact) / np.spacing(np.maximum(np.abs(exact), 1e-37).astype(np.float32)).astype(np.float64)
for lo, hi in [(-8.4, -1.42), (-1.42, 0), (0, 1.42), (1.42, 9)]:
    m = (x >= lo) & (x < hi)
    print(f"x in [{lo}, {hi}): at most {np.max(ulps[m]):.1f} ulp")
