#!/usr/bin/python3
"""Golden values for the special functions and paired tests (special.test.ts, paired-tests.test.ts).

SciPy 1.10 computes the special functions, tails and the binomial test; DeLong's statistics
come from a direct O(n_pos * n_neg) implementation of the definitions written here (placement
values with ties counted one half, sample covariances with n - 1), independent of the fast
midrank algorithm the TypeScript uses; McNemar from scipy.stats directly.

Run with Debian's python3-scipy:  /usr/bin/python3 packages/core/test/golden/make_stats_golden.py
"""
import json
import os

import numpy as np
import scipy
from scipy import special, stats

OUT = os.path.join(os.path.dirname(__file__), "stats.golden.json")
rng = np.random.default_rng(7)

cases = {}
cases["logGamma"] = [[x, float(special.gammaln(x))] for x in
                     [1e-8, 1e-3, 0.1, 0.5, 0.9, 1, 1.5, 2, 2.5, 3.7, 10, 30.5, 171.6, 1e3, 1e5, 1e7]]
grid = []
for a in [0.5, 1, 2.5, 10, 50, 200]:
    for x in [1e-3, 0.1, 0.5 * a, 0.9 * a, a, a + 1, 1.5 * a + 1, 3 * a + 5, 5 * a + 20, 8 * a + 60]:
        grid.append([a, x, float(special.gammainc(a, x)), float(special.gammaincc(a, x))])
cases["gamma"] = grid
cases["erfc"] = [[x, float(special.erfc(x))] for x in [-3, -1, -0.3, 0, 1e-5, 0.2, 0.7, 1, 2, 3.5, 5, 9, 15, 26]]
zs = [-8, -3, -1.96, -0.5, 0, 0.1, 1, 1.6448536269514722, 2.5, 5, 10, 20, 37]
cases["normal"] = [[z, float(stats.norm.cdf(z)), float(stats.norm.sf(z))] for z in zs]
cases["normalQuantile"] = [[p, float(stats.norm.ppf(p))] for p in
                           [1e-300, 1e-50, 1e-10, 1e-4, 0.001, 0.01, 0.02425, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.99, 0.999, 1 - 1e-9, 1 - 1e-12]]
cases["chiSquaredSf"] = [[x, df, float(stats.chi2.sf(x, df))] for df in [1, 2, 3, 7, 20, 50]
                         for x in [0.01, 0.5, 1, 3.84, df, 2 * df + 5, 10 * df + 30]]
binom = []
for k, n in [(0, 1), (0, 5), (1, 10), (3, 10), (5, 10), (7, 10), (2, 24), (12, 24), (30, 100), (45, 100),
             (400, 1000), (480, 1000), (4900, 10000), (49000, 100000), (100, 100000)]:
    binom.append([k, n, float(stats.binomtest(k, n, 0.5).pvalue)])
cases["binomialTestTwoSided"] = binom


def delong_direct(y, a, b):
    pos = y == 1
    out = {}
    v10s, v01s = [], []
    aucs = []
    for s in (a, b):
        X, Y = s[pos], s[~pos]
        psi = (X[:, None] > Y[None, :]).astype(float) + 0.5 * (X[:, None] == Y[None, :])
        v10s.append(psi.mean(axis=1))
        v01s.append(psi.mean(axis=0))
        aucs.append(psi.mean())
    m, n = pos.sum(), (~pos).sum()
    S10 = np.cov(np.vstack(v10s))
    S01 = np.cov(np.vstack(v01s))
    S = S10 / m + S01 / n
    diff = aucs[1] - aucs[0]
    var = S[0, 0] + S[1, 1] - 2 * S[0, 1]
    se = np.sqrt(max(var, 0.0))
    z = diff / se if se > 0 else 0.0
    p = 2 * stats.norm.sf(abs(z)) if se > 0 else 1.0
    out.update(aucA=aucs[0], aucB=aucs[1], varianceA=S[0, 0], varianceB=S[1, 1], covariance=S[0, 1],
               difference=diff, standardError=se, z=z, pValue=min(1.0, p))
    return {k: float(v) for k, v in out.items()}


delong = []
for n, rho, rounding in [(10, 0.5, None), (57, 0.8, 1), (500, 0.3, 2), (2000, 0.9, None), (300, 0.0, 1)]:
    y = (rng.random(n) < 0.4).astype(int)
    if y.sum() == 0:
        y[0] = 1
    if y.sum() == n:
        y[0] = 0
    base = rng.normal(0, 1, n)
    a = 1.0 * y + base
    b = 1.2 * y + rho * base + np.sqrt(1 - rho ** 2) * rng.normal(0, 1, n)
    if rounding is not None:
        a, b = np.round(a, rounding), np.round(b, rounding)
    delong.append({"positive": y.tolist(), "a": a.tolist(), "b": b.tolist(), "expected": delong_direct(y, a, b)})
cases["delong"] = delong

mcn = []
for b, c in [(0, 0), (3, 0), (5, 9), (12, 12), (20, 4), (13, 11), (40, 22), (150, 190), (1000, 1100)]:
    exact_p = float(stats.binomtest(min(b, c), b + c, 0.5).pvalue) if b + c > 0 else 1.0
    stat = (abs(b - c) - 1) ** 2 / (b + c) if b + c > 0 else 0.0
    chi_p = float(stats.chi2.sf(stat, 1)) if b + c > 0 else 1.0
    mcn.append({"b": b, "c": c, "exactP": exact_p, "chi2": stat, "chi2P": chi_p})
cases["mcnemar"] = mcn

with open(OUT, "w") as f:
    json.dump({"scipy": scipy.__version__, "cases": cases}, f, separators=(",", ":"))
print(f"wrote {OUT} with SciPy {scipy.__version__}")
