"""scikit-learn's side of `pnpm bench train`: fits the same trees on the data bench/train.ts
wrote (X float32 row-major, class labels int32, regression targets float64) and prints each
fit's seconds as JSON. One round per call; the TypeScript side interleaves the calls.

Run by bench/train.ts with Debian's Python: /usr/bin/python3 bench/train_sklearn.py DIR N K"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

d, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.fromfile(f"{d}/X.f32", dtype=np.float32).reshape(n, k)
yc = np.fromfile(f"{d}/yc.i32", dtype=np.int32)
yr = np.fromfile(f"{d}/yr.f64", dtype=np.float64)
Xtest = X[: n // 10]


def timed(make, y):
    t0 = time.perf_counter()
    m = make().fit(X, y)
    seconds = time.perf_counter() - t0
    return m, seconds


out = {}
m, out["DecisionTreeClassifier"] = timed(lambda: DecisionTreeClassifier(random_state=0), yc)
out["DecisionTreeClassifier nodes"] = int(m.tree_.node_count)
m, out["DecisionTreeRegressor"] = timed(lambda: DecisionTreeRegressor(random_state=0), yr)
out["DecisionTreeRegressor nodes"] = int(m.tree_.node_count)
m, out["RandomForestClassifier"] = timed(lambda: RandomForestClassifier(n_estimators=10, random_state=0, n_jobs=1), yc)
out["RandomForestClassifier nodes"] = int(sum(e.tree_.node_count for e in m.estimators_))
print(json.dumps(out))
