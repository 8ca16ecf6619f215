"""The usual scikit-learn bootstrap loop on the data bench/evaluate-bootstrap.ts wrote: resample
indices with numpy, call each metric on the resample. Prints JSON seconds per resample."""
import json
import sys
import time

import numpy as np
from sklearn import metrics

directory, n, resamples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
y = np.fromfile(f"{directory}/y.u8", dtype=np.uint8).astype(np.int64)
s = np.fromfile(f"{directory}/s.f64", dtype=np.float64)
assert len(y) == n
p = (s >= 0.5).astype(np.int64)
rng = np.random.default_rng(0)
t0 = time.perf_counter()
values = []
for _ in range(resamples):
    idx = rng.integers(0, n, n)
    yt, st, pt = y[idx], s[idx], p[idx]
    values.append((metrics.roc_auc_score(yt, st), metrics.average_precision_score(yt, st), metrics.f1_score(yt, pt)))
seconds = time.perf_counter() - t0
v = np.array(values)
print(json.dumps({"perResample": seconds / resamples,
                  "rocAuc": [float(np.percentile(v[:, 0], 2.5)), float(np.percentile(v[:, 0], 97.5))]}))
