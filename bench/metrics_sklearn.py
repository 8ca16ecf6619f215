"""Times scikit-learn on the data bench/metrics-vs-sklearn.ts wrote; prints JSON seconds."""
import json
import sys
import time

import numpy as np
from sklearn import metrics

directory, n = sys.argv[1], int(sys.argv[2])
y = np.fromfile(f"{directory}/y.u8", dtype=np.uint8).astype(np.int64)
s = np.fromfile(f"{directory}/s.f64", dtype=np.float64)
p = np.fromfile(f"{directory}/p.u8", dtype=np.uint8).astype(np.int64)
assert len(y) == n
out = {}
for name, fn in (("rocAuc", lambda: metrics.roc_auc_score(y, s)),
                 ("averagePrecision", lambda: metrics.average_precision_score(y, s)),
                 ("f1", lambda: metrics.f1_score(y, p))):
    times, value = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    out[name] = {"seconds": sorted(times)[1], "value": float(value)}
print(json.dumps(out))
