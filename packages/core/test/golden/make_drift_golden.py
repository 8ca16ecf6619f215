#!/usr/bin/python3
"""Golden values for the drift statistics (monitor/drift-stats.test.ts), from SciPy 1.10.

KS from scipy.stats.ks_2samp (exact below 10,000 per sample, and its asymptotic kstwo above,
which the test compares within a stated tolerance); Jensen-Shannon from
scipy.spatial.distance.jensenshannon; Wasserstein from scipy.stats.wasserstein_distance;
chi-squared from scipy.stats.chisquare; PSI with Evidently's formula and zero filling written
out here; the z test with SciPy's normal tail.

Run with Debian's python3-scipy:  /usr/bin/python3 packages/core/test/golden/make_drift_golden.py
"""
import json
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

OUT = os.path.join(os.path.dirname(__file__), "drift.golden.json")
rng = np.random.default_rng(11)


def fill_zeros(p):
    nz = p[p > 0]
    m = nz.min()
    fill = m / 1e6 if m <= 1e-4 else 1e-4
    return np.where(p == 0, fill, p)


def psi(ref, cur):
    r = fill_zeros(np.asarray(ref, float) / np.sum(ref))
    c = fill_zeros(np.asarray(cur, float) / np.sum(cur))
    return float(np.sum((r - c) * np.log(r / c)))


ks = []
for n1, n2, shift, rounding in [(5, 7, 0.0, None), (30, 30, 0.5, None), (40, 61, 0.3, 1), (200, 150, 0.1, None),
                                (500, 500, 0.0, None), (1000, 800, 0.25, 2), (3000, 2000, 0.05, None), (10000, 7000, 0.02, 3),
                                (12000, 9000, 0.03, None), (20000, 30000, 0.02, None)]:
    if max(n1, n2) > 10000:
        # Large samples are not stored: both sides make them from integers, to the same doubles.
        a = np.array([(i * 7919 % 10007) / 10007 for i in range(n1)])
        b = np.array([(i * 104729 % 30011) / 30011 + shift for i in range(n2)])
        data = {"generated": True, "n1": n1, "n2": n2, "shift": shift}
    else:
        a = rng.normal(0, 1, n1)
        b = rng.normal(shift, 1, n2)
        if rounding is not None:
            a, b = np.round(a, rounding), np.round(b, rounding)
        data = {"a": a.tolist(), "b": b.tolist()}
    r = stats.ks_2samp(a, b)
    en = n1 * n2 / (n1 + n2)
    ks.append({**data, "statistic": float(r.statistic), "pValue": float(r.pvalue),
               "kstwobign": float(stats.kstwobign.sf(np.sqrt(en) * r.statistic))})

hist = []
for k, conc in [(5, 1.0), (10, 0.3), (20, 2.0), (3, 50.0)]:
    ref = rng.multinomial(1000, rng.dirichlet(np.ones(k) * conc))
    cur = rng.multinomial(700, rng.dirichlet(np.ones(k) * conc))
    if k == 10:
        ref[0] = 0  # a zero share on one side
    hist.append({"reference": ref.tolist(), "current": cur.tolist(), "psi": psi(ref, cur),
                 "jensenShannon": float(distance.jensenshannon(ref / ref.sum(), cur / cur.sum())),
                 "chiSquareDrift": None})
    exp = ref / ref.sum() * cur.sum()
    if (exp > 0).all():
        s = stats.chisquare(cur, exp)
        hist[-1]["chiSquareDrift"] = {"statistic": float(s.statistic), "pValue": float(s.pvalue)}

wass = []
for n1, n2, weighted in [(10, 15, False), (200, 300, True), (1000, 50, False)]:
    u = rng.gamma(2.0, 1.0, n1)
    v = rng.gamma(2.3, 1.1, n2)
    uw = rng.uniform(0.1, 2, n1) if weighted else None
    vw = rng.uniform(0.1, 2, n2) if weighted else None
    d = stats.wasserstein_distance(u, v, uw, vw)
    wass.append({"u": u.tolist(), "v": v.tolist(), "uWeights": None if uw is None else uw.tolist(),
                 "vWeights": None if vw is None else vw.tolist(), "distance": float(d),
                 "normalized": float(stats.wasserstein_distance(u, v) / max(np.std(u), 0.001))})

chi = []
for obs, exp in [([10, 20, 30], [20, 20, 20]), ([5, 0, 7, 8], [5, 5, 5, 5]), ([100, 150], [125.5, 124.5])]:
    s = stats.chisquare(obs, exp)
    chi.append({"observed": obs, "expected": exp, "statistic": float(s.statistic), "pValue": float(s.pvalue)})

z = []
for s1, n1, s2, n2 in [(30, 100, 45, 100), (5, 1000, 9, 800), (500, 1000, 500, 1000)]:
    p1, p2, p = s1 / n1, s2 / n2, (s1 + s2) / (n1 + n2)
    stat = (p1 - p2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    z.append({"s1": s1, "n1": n1, "s2": s2, "n2": n2, "statistic": float(stat), "pValue": float(2 * stats.norm.sf(abs(stat)))})

kolm = [[x, float(stats.kstwobign.sf(x))] for x in [0.05, 0.3, 0.5, 0.8, 0.99, 1.0, 1.2, 1.5, 2.0, 3.0]]

with open(OUT, "w") as f:
    json.dump({"scipy": scipy.__version__, "ks": ks, "histograms": hist, "wasserstein": wass, "chisquare": chi,
               "z": z, "kolmogorov": kolm}, f, separators=(",", ":"))
print(f"wrote {OUT} with SciPy {scipy.__version__}")
