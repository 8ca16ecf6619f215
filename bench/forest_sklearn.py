"""scikit-learn's IsolationForest on the rows bench/screen-overhead.ts scores (run with
/usr/bin/python3, which has scikit-learn 1.2): fitted with the same settings on the same
reference rows (its own random trees: scikit-learn's generator is not ours), then
`score_samples` timed per record, on all rows at once and one row per call.

Usage: forest_sklearn.py DIR, where DIR holds meta.txt ("nodes trees rows width"),
reference.f64 (reference rows × width) and x.f64 (rows × width).
Prints JSON: {"batch_ns": ..., "single_ns": ..., "version": ...} (medians of 7, ns per record).
"""

import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

d = sys.argv[1]
_, trees, rows, width = (int(v) for v in open(f"{d}/meta.txt").read().split())
reference = np.fromfile(f"{d}/reference.f64", dtype=np.float64).reshape(-1, width)
x = np.fromfile(f"{d}/x.f64", dtype=np.float64).reshape(rows, width)
forest = IsolationForest(n_estimators=trees, max_samples=256, random_state=1).fit(reference)
forest.score_samples(x)  # warm up


def median(fn, n, reps=7):
    times = []
    for _ in range(reps):
        t = time.process_time_ns()  # CPU time, as bench/screen-overhead.ts measures ours
        fn()
        times.append((time.process_time_ns() - t) / n)
    return sorted(times)[reps // 2]


single = x[:20]  # a call costs milliseconds: 20 of them
print(
    json.dumps(
        {
            "batch_ns": median(lambda: forest.score_samples(x), rows),
            "single_ns": median(lambda: [forest.score_samples(single[i : i + 1]) for i in range(20)], 20),
            "version": sklearn.__version__,
        }
    )
)
