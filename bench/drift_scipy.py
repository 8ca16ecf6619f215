"""Times SciPy's two-sample statistics on the columns bench/drift-vs-scipy.ts wrote.

Run with Debian's /usr/bin/python3 (numpy, scipy). Prints JSON: seconds over all columns for
wasserstein_distance and ks_2samp on the full reference and current arrays, each column's
Evidently-normalised Wasserstein distance and KS p-value, and an A/A sort probe; CPU seconds
(process time) beside the wall ones.
"""
import json
import sys
import time

import numpy as np
from scipy import stats

directory, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ref = np.fromfile(f"{directory}/ref.f64", dtype=np.float64).reshape(k, n)
cur = np.fromfile(f"{directory}/cur.f64", dtype=np.float64).reshape(k, n)


cpu = {}


def timed(fn, name=None):
    t0 = time.perf_counter()
    c0 = time.process_time()
    value = fn()
    if name is not None:
        cpu[name] = time.process_time() - c0
    return time.perf_counter() - t0, value


aa1, _ = timed(lambda: np.sort(ref[0]))
w_seconds, w = timed(lambda: [stats.wasserstein_distance(ref[j], cur[j]) for j in range(k)], "wasserstein")
ks_seconds, ks = timed(lambda: [stats.ks_2samp(ref[j], cur[j]).pvalue for j in range(k)], "ks")
aa2, _ = timed(lambda: np.sort(ref[0]))
print(json.dumps({
    "wasserstein": {"seconds": w_seconds, "cpu": cpu["wasserstein"],
                    "values": [float(w[j] / max(np.std(ref[j]), 0.001)) for j in range(k)]},
    "ks": {"seconds": ks_seconds, "cpu": cpu["ks"], "values": [float(p) for p in ks]},
    "aa": aa2 / aa1,
}))
